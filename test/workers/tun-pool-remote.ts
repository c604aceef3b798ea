// The remote side of the two-worker page pool test, as vhost is: takes frame handles from a
// ptr_ring, checks each frame's bytes (the owner wrote the frame's sequence number into it), and
// gives the frames back through its recycle ring, flushing once per batch.
import { parentPort, workerData } from 'node:worker_threads';
import {
  FramePool, PagePoolRemote, PtrRing, SockWait, type SharedFramePool, type SharedPtrRing, type SharedSockWait,
} from '../../tun/index.ts';
import { waitForStart } from './spawn.ts';

const { pool: sharedPool, ring: sharedRing, wake, count, gate } = workerData as {
  pool: SharedFramePool; ring: SharedPtrRing; wake: SharedSockWait; count: number; gate: Int32Array;
};
const pool = FramePool.open(sharedPool);
const remote = new PagePoolRemote(pool);
const ring = PtrRing.open(sharedRing);
const wait = new SockWait(wake);
const out = new Uint32Array(64);
let seen = 0, bad = 0, lenBad = 0;

parentPort!.postMessage('ready');
waitForStart(gate);
while (seen < count) {
  wait.clearQueued();
  const n = ring.consumeBatched(out, out.length);
  if (n === 0) {
    const armed = wait.arm();
    if (ring.empty() && wait.wait(armed, 5000) === 'timed-out') break;
    continue;
  }
  for (let i = 0; i < n; i++) {
    const h = out[i]!;
    const off = pool.dataOffset(h);
    if (pool.length(h) !== 60) lenBad++;
    // The owner wrote the sequence number in the first word and the handle in the second.
    if (pool.i32[off >>> 2] !== seen || pool.i32[(off >>> 2) + 1] !== h) bad++;
    seen++;
    remote.free(h);
  }
  remote.flush();
}
remote.release();
parentPort!.postMessage({ seen, bad, lenBad, freed: remote.freed, flushes: remote.flushes });
