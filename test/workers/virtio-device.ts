// The device side of the two-thread virtqueue test: pops chains of (64 readable bytes holding a
// sequence number, 4 writable bytes), checks each arrives once and in order, writes ~seq back,
// pushes in batches, interrupts per vring_need_event, and sleeps on the kick doorbell when idle
// (notifications re-enabled and the ring re-checked after arming, as vhost does).
import { parentPort, workerData } from 'node:worker_threads';
import { DeviceQueue, VQ_EMPTY } from '../../virtio/device-queue.ts';
import { Doorbell, type SharedDoorbell } from '../../virtio/doorbell.ts';
import { GuestMemory, type SharedGuestMemory } from '../../virtio/guest-memory.ts';
import { SplitRing, type SplitRingLayout } from '../../virtio/split-ring.ts';
import { waitForStart } from './spawn.ts';

const w = workerData as {
  mem: SharedGuestMemory; layout: SplitRingLayout; kick: SharedDoorbell; irq: SharedDoorbell;
  total: number; batch: number; gate: Int32Array; timeoutMs: number;
};
const mem = new GuestMemory(w.mem);
const dev = new DeviceQueue(mem, new SplitRing(mem, w.layout), { name: 'txq0', eventIdx: true });
const kick = new Doorbell(w.kick);
const irq = new Doorbell(w.irq);
const errors: string[] = [];
let expected = 0;
let timeouts = 0;
let wakeups = 0;
let batches = 0;

parentPort!.postMessage('ready');
waitForStart(w.gate);
const chain = dev.chain;
const view = mem.view;
while (expected < w.total && errors.length === 0 && timeouts < 5) {
  let popped = 0;
  let h: ReturnType<DeviceQueue['pop']> = VQ_EMPTY;
  while (popped < w.batch) {
    h = dev.pop();
    if (typeof h !== 'number' || h === VQ_EMPTY) break;
    if (chain.count !== 2 || chain.readable !== 1 || chain.len[0] !== 64 || chain.len[1] !== 4) {
      errors.push(`chain ${h}: unexpected shape ${chain.count}/${chain.readable}`);
      break;
    }
    const seq = view.getUint32(chain.addr[0]!, true);
    if (seq !== expected) errors.push(`got buffer ${seq}, expected ${expected}`);
    expected++;
    view.setUint32(chain.addr[1]!, ~seq >>> 0, true);
    dev.push(h, 4);
    popped++;
  }
  if (typeof h !== 'number') {
    errors.push(h.message);
    break;
  }
  if (popped > 0) {
    batches++;
    if (dev.shouldNotify()) irq.ring();
    continue;
  }
  // Idle: arm, re-enable kicks and re-check, then sleep; polling resumes with kicks off.
  const armed = kick.arm();
  if (dev.enableNotify()) {
    dev.disableNotify();
    continue;
  }
  if (kick.wait(armed, w.timeoutMs) === 'timed-out') timeouts++;
  wakeups++;
  dev.disableNotify();
}
dev.flush();
if (dev.shouldNotify()) irq.ring();
parentPort!.postMessage({
  received: expected, errors, timeouts, wakeups, batches, interrupts: irq.rings,
  interruptsSuppressed: dev.interruptsSuppressed, sleeps: kick.sleeps,
});
