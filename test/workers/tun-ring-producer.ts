// Producer side of the two-worker ptr_ring test: pushes 0..count-1 through the ring, publishing
// every `batch` entries and ringing the consumer's SockWait once per publish; sleeps on its own
// SockWait (rung by the consumer after it frees room) when the ring is full.
import { parentPort, workerData } from 'node:worker_threads';
import { PtrRing, SockWait, type SharedPtrRing, type SharedSockWait } from '../../tun/index.ts';
import { waitForStart } from './spawn.ts';

const { ring: sharedRing, wake, room, count, batch, gate } = workerData as {
  ring: SharedPtrRing; wake: SharedSockWait; room: SharedSockWait; count: number; batch: number; gate: Int32Array;
};
const ring = PtrRing.open(sharedRing);
const consumer = new SockWait(wake);
const space = new SockWait(room);
let sleeps = 0;

parentPort!.postMessage('ready');
waitForStart(gate);
const t0 = performance.now();
let next = 0;
while (next < count) {
  let n = 0;
  while (n < batch && next < count && ring.produce(next)) { next++; n++; }
  ring.publishProduced();
  if (n > 0) consumer.wake();
  if (n < batch && next < count) {
    // Full: sleep until the consumer says it made room (arm, re-check, wait).
    space.clearQueued();
    const armed = space.arm();
    if (ring.produce(next)) { next++; continue; }
    if (space.wait(armed, 5000) !== 'not-equal') sleeps++;
  }
}
ring.publishProduced();
consumer.wake();
parentPort!.postMessage({ produced: ring.produced, publishes: ring.publishes, full: ring.full, sleeps, wakeups: consumer.wakeups, coalesced: consumer.wakeups_coalesced, notified: consumer.wakeups_notified, notifyUs: consumer.notify_us, ms: performance.now() - t0 });
