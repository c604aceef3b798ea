// Map micro-benchmarks: the program-side calls helpers make on the hot path, one thread, no
// contention. Each figure is the median of several rounds of a tight loop, after a warm-up that
// lets V8 optimise the map code first.
import { createMap } from '../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../bpf-vm/maps/map.ts';

export interface MapBenchRow {
  name: string;
  nsPerOp: number;
}

const ROUNDS = 5;
const OPS = 2_000_000;
const KEYS = 1024;

/** The keys a program would build on its stack: KEYS consecutive u32 keys in one buffer. */
function keyStack(first: number): Uint8Array {
  const b = new Uint8Array(KEYS * 4);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < KEYS; i++) v.setUint32(i * 4, first + i, true);
  return b;
}

/** Median ns per call of `body(i)` over ROUNDS rounds of OPS calls. `sink` keeps results alive. */
function measure(body: (i: number) => number): number {
  let sink = 0;
  for (let i = 0; i < OPS / 4; i++) sink += body(i);
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < OPS; i++) sink += body(i);
    samples.push(Number(process.hrtime.bigint() - t0) / OPS);
  }
  if (sink === 0.5) console.log(sink); // never true; stops the loop from being optimised away
  samples.sort((a, b) => a - b);
  return Math.round(samples[ROUNDS >> 1]! * 10) / 10;
}

function hashMap(): BpfMap {
  const m = createMap({ name: 'bench_hash', type: BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: KEYS, flags: 0 });
  const keys = keyStack(1);
  const value = new Uint8Array(8);
  for (let i = 0; i < KEYS; i++) m.updateElem(keys, i * 4, value, 0, 0, 0);
  return m;
}

export async function benchMaps(): Promise<MapBenchRow[]> {
  const rows: MapBenchRow[] = [];
  const mask = KEYS - 1;

  const array = createMap({ name: 'bench_array', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: KEYS, flags: 0 });
  const arrayKeys = keyStack(0);
  rows.push({ name: 'ARRAY lookupValueOffset', nsPerOp: measure((i) => array.lookupValueOffset(arrayKeys, (i & mask) * 4, 0)) });

  const hash = hashMap();
  const hits = keyStack(1);
  const misses = keyStack(1 + KEYS);
  rows.push({ name: 'HASH lookupValueOffset hit (4-byte key)', nsPerOp: measure((i) => hash.lookupValueOffset(hits, (i & mask) * 4, 0)) });
  rows.push({ name: 'HASH lookupValueOffset miss (4-byte key)', nsPerOp: measure((i) => hash.lookupValueOffset(misses, (i & mask) * 4, 0)) });

  const value = new Uint8Array(8);
  rows.push({ name: 'HASH updateElem existing key (replace)', nsPerOp: measure((i) => hash.updateElem(hits, (i & mask) * 4, value, 0, 0, 0)) });
  // Delete a key and insert it again: the map neither fills nor empties.
  rows.push({
    name: 'HASH deleteElem + updateElem new key (pair)',
    nsPerOp: measure((i) => {
      const off = (i & mask) * 4;
      hash.deleteElem(hits, off);
      return hash.updateElem(hits, off, value, 0, 0, 0);
    }),
  });
  return rows;
}
