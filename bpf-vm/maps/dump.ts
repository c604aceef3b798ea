// The contents of a map as `bpftool map dump` walks them: BPF_MAP_GET_NEXT_KEY from no key, then
// BPF_MAP_LOOKUP_ELEM for each key. Arrays come out as every slot in index order, hash maps in
// bucket order, devmaps without their empty slots (their lookups miss). SOCKMAP walks every index
// too; its entries are the slots holding a socket, the value being the socket's cookie.
import { toHex as hex } from '../hex.ts';
import { ERRNO } from '../errno.ts';
import { BPF_MAP_TYPE, type BpfMap } from './map.ts';
import { asSockMap } from './sock-map-ops.ts';
import { isPercpuHash } from './hash.ts';
import { roundUp8 } from './mem.ts';

export interface MapEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/** One step of the walk: the key and the lookup's value, or the lookup's errno (positive). */
export interface MapDumpStep {
  key: Uint8Array;
  value: Uint8Array | undefined;
  errno: number;
}

/** The walk, every key get_next_key gives with what its lookup answered. */
export function walkMap(map: BpfMap): MapDumpStep[] {
  const out: MapDumpStep[] = [];
  // A hash map modified while we walk may send us back to its first key (the key we stand on was
  // deleted): keys already seen are skipped, and the walk is bounded by what the map can hold.
  const seen = new Set<string>();
  const limit = 2 * map.spec.maxEntries + 16;
  const sock = asSockMap(map);
  let key = map.getNextKey(undefined);
  for (let steps = 0; key !== undefined && steps < limit; steps++) {
    const id = hex(key);
    if (!seen.has(id)) {
      seen.add(id);
      if (sock !== undefined) {
        const r = sock.lookupSys(key);
        out.push(typeof r === 'number' ? { key, value: undefined, errno: -r } : { key, value: r, errno: 0 });
      } else {
        const value = map.lookup(key);
        out.push({ key, value, errno: value === undefined ? ERRNO.ENOENT : 0 });
      }
    }
    key = map.getNextKey(key);
  }
  return out;
}

export function dumpMap(map: BpfMap): MapEntry[] {
  const out: MapEntry[] = [];
  for (const s of walkMap(map)) if (s.value !== undefined) out.push({ key: s.key, value: s.value });
  return out;
}

/** glibc's strerror for the errnos a lookup gives. */
const STRERROR: Readonly<Record<number, string>> = {
  [ERRNO.ENOSPC]: 'No space left on device',
  [ERRNO.EINVAL]: 'Invalid argument',
  [ERRNO.EPERM]: 'Operation not permitted',
  [ERRNO.EBUSY]: 'Device or resource busy',
};

/** bpftool's fprint_hex: bytes separated by `sep`, two spaces every 8, a new line every 16. */
function fprintHex(b: Uint8Array, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    const pfx = i === 0 ? '' : i % 16 === 0 ? '\n' : i % 8 === 0 ? '  ' : ' ';
    s += pfx + (b[i] ?? 0).toString(16).padStart(2, '0');
  }
  return s;
}

/**
 * `bpftool map dump` in plain text (print_entry_plain / print_entry_error): a line per key, a
 * failed lookup shown as `<no entry>` (ENOENT) or its strerror, PROG_ARRAY's empty slots left
 * out, per-CPU values one line per CPU; then `Found N element(s)`, counting successful lookups.
 */
export function formatMapDump(map: BpfMap, nrCpus = 1): string {
  const ks = map.spec.keySize;
  const vs = map.spec.valueSize;
  const percpu = map.spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY || isPercpuHash(map.spec.type);
  const lines: string[] = [];
  let found = 0;
  for (const s of walkMap(map)) {
    if (s.value === undefined) {
      if (map.spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY && s.errno === ERRNO.ENOENT) continue;
      const msg = s.errno === ERRNO.ENOENT ? '<no entry>' : STRERROR[s.errno] ?? `Unknown error ${s.errno}`;
      const breakNames = ks > 16 || msg.length > 16;
      const single = ks + msg.length <= 24 && !breakNames;
      lines.push(`key:${breakNames ? '\n' : ' '}${fprintHex(s.key, ks)}${single ? '  ' : '\n'}value:${breakNames ? '\n' : ' '}${msg}`);
      continue;
    }
    found++;
    if (percpu) {
      const step = roundUp8(vs);
      const cpus = Math.max(1, Math.min(nrCpus, Math.floor(s.value.length / step)));
      let text = `key:\n${fprintHex(s.key, ks)}`;
      for (let c = 0; c < cpus; c++) {
        text += `\nvalue (CPU ${String(c).padStart(2, '0')}):${vs > 16 ? '\n' : ' '}${fprintHex(s.value.subarray(c * step), vs)}`;
      }
      lines.push(text);
      continue;
    }
    // A sockmap's value is the u64 cookie whatever value_size (only 8-byte maps return one).
    const n = asSockMap(map) !== undefined ? s.value.length : vs;
    const breakNames = ks > 16 || n > 16;
    const single = ks + n <= 24 && !breakNames;
    lines.push(`key:${breakNames ? '\n' : ' '}${fprintHex(s.key, ks)}${single ? '  ' : '\n'}value:${breakNames ? '\n' : ' '}${fprintHex(s.value, n)}`);
  }
  lines.push(`Found ${found} element${found === 1 ? '' : 's'}`);
  return lines.join('\n') + '\n';
}
