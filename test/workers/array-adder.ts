// A worker that adds to one ARRAY value with 32-bit and 64-bit atomic adds, as BPF atomic
// instructions will: through Int32Array/BigInt64Array views over the map's `values`.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { waitForStart } from './spawn.ts';

const { state, control, adds } = workerData as { state: SharedMapState; control: Int32Array; adds: number };
const map = openSharedMap(state);
const v = map.values;
const i32 = new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2);
const i64 = new BigInt64Array(v.buffer, v.byteOffset, v.byteLength >> 3);
const off32 = map.lookupValueOffset(new Uint8Array([1, 0, 0, 0]), 0, 0);
const off64 = map.lookupValueOffset(new Uint8Array([2, 0, 0, 0]), 0, 0);

parentPort!.postMessage('ready');
waitForStart(control);
for (let i = 0; i < adds; i++) {
  Atomics.add(i32, off32 >> 2, 1);
  if ((i & 7) === 0) Atomics.add(i64, off64 >> 3, 3n);
}
parentPort!.postMessage('done');
