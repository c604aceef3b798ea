// A worker of test/bpf/sockmap-workers.test.ts: on a SOCKMAP or SOCKHASH another thread created,
// claims random slots with BPF_NOEXIST for cookies of its own (id in the high bits), gives them
// back with the compare-and-delete a closing socket uses, and reads random slots: a cookie read
// must always be whole, one some worker wrote.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import { asSockMap } from '../../bpf-vm/maps/sock-map-ops.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { mulberry32 } from '../workers/prng.ts';
import { waitForStart } from '../workers/spawn.ts';

const { state, control, id, ops, slots } = workerData as { state: SharedMapState; control: Int32Array; id: number; ops: number; slots: number };
const map = asSockMap(openSharedMap(state))!;
const rand = mulberry32(0x5eed + id);
const key = new Uint8Array(4);
const errors: string[] = [];
const mine = new Map<number, bigint>();
let claimed = 0;
let released = 0;
let reads = 0;

parentPort!.postMessage('ready');
waitForStart(control);

for (let i = 0; i < ops; i++) {
  const slot = Math.floor(rand() * slots);
  new DataView(key.buffer).setUint32(0, slot, true);
  const r = rand();
  if (r < 0.4) {
    const cookie = (BigInt(id + 1) << 40n) | BigInt(i + 1);
    const err = map.updateCookie(key, 0, cookie, 1);
    if (err === 0) {
      if (mine.has(slot)) errors.push(`slot ${slot} claimed twice`);
      mine.set(slot, cookie);
      claimed++;
    } else if (err !== -17) {
      errors.push(`update: ${err}`);
    }
  } else if (r < 0.7) {
    const c = mine.get(slot);
    if (c !== undefined) {
      if (!map.deleteCookie(key, 0, c)) errors.push(`slot ${slot}: my cookie was gone`);
      mine.delete(slot);
      released++;
    }
  } else {
    const c = map.lookupCookie(key, 0);
    reads++;
    const owner = Number(c >> 40n);
    if (c !== 0n && (owner < 1 || owner > 8 || (c & 0xffffffffffn) === 0n)) errors.push(`torn cookie ${c.toString(16)}`);
    const m = mine.get(slot);
    if (m !== undefined && c !== m) errors.push(`slot ${slot} holds ${c.toString(16)}, I put ${m.toString(16)}`);
  }
}
parentPort!.postMessage({ errors: errors.slice(0, 20), claimed, released, held: [...mine.keys()], reads });
