// One side of a doorbell ping-pong: posts a sequence number in shared memory and rings the peer,
// then sleeps on its own doorbell until the peer answers, following the arm / re-check / wait
// protocol of virtio/doorbell.ts. A lost wake-up shows up as a timed-out wait (counted).
import { parentPort, workerData } from 'node:worker_threads';
import { Doorbell, type SharedDoorbell } from '../../virtio/doorbell.ts';
import { waitForStart } from './spawn.ts';

const { role, ring, wait, seq, rounds, gate, timeoutMs } = workerData as {
  role: 0 | 1; ring: SharedDoorbell; wait: SharedDoorbell; seq: Int32Array; rounds: number; gate: Int32Array; timeoutMs: number;
};
const out = new Doorbell(ring);
const inn = new Doorbell(wait);
const peer = 1 - role;
let timeouts = 0;
let notEqual = 0;
let received = 0;

parentPort!.postMessage('ready');
waitForStart(gate);
for (let i = 1; i <= rounds && timeouts < 3; i++) {
  // The initiator (role 0) posts first; the responder answers each number it sees.
  if (role === 0) {
    Atomics.store(seq, role, i);
    out.ring();
  }
  for (;;) {
    const armed = inn.arm();
    if (Atomics.load(seq, peer) >= i) break; // the re-check after arming
    const r = inn.wait(armed, timeoutMs);
    if (r === 'timed-out') timeouts++;
    else if (r === 'not-equal') notEqual++;
    if (timeouts >= 3) break;
  }
  received++;
  if (role === 1) {
    Atomics.store(seq, role, i);
    out.ring();
  }
}
parentPort!.postMessage({ role, received, rings: out.rings, sleeps: inn.sleeps, notEqual, timeouts });
