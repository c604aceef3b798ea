// The contents of a map as `bpftool map dump` walks them: BPF_MAP_GET_NEXT_KEY from no key, then
// BPF_MAP_LOOKUP_ELEM for each key. Arrays come out as every slot in index order, hash maps in
// bucket order, devmaps without their empty slots (their lookups miss).
import { toHex as hex } from '../hex.ts';
import type { BpfMap } from './map.ts';

export interface MapEntry {
  key: Uint8Array;
  value: Uint8Array;
}


export function dumpMap(map: BpfMap): MapEntry[] {
  const out: MapEntry[] = [];
  // A hash map modified while we walk may send us back to its first key (the key we stand on was
  // deleted): keys already seen are skipped, and the walk is bounded by what the map can hold.
  const seen = new Set<string>();
  const limit = 2 * map.spec.maxEntries + 16;
  let key = map.getNextKey(undefined);
  for (let steps = 0; key !== undefined && steps < limit; steps++) {
    const id = hex(key);
    if (!seen.has(id)) {
      seen.add(id);
      const value = map.lookup(key);
      if (value !== undefined) out.push({ key, value });
    }
    key = map.getNextKey(key);
  }
  return out;
}
