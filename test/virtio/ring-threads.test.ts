// Driver in this thread, device in a worker, one shared guest memory: 200k buffers through a
// Q=256 queue in batches, with EVENT_IDX suppressing kicks and interrupts and both sides sleeping
// on doorbells when idle. Every buffer must arrive once and in order, and come back with the
// device's reply; kicks and interrupts are counted and logged. Nothing is timed: a lost wake-up
// would show up as a timed-out wait, which is counted and must be zero.
import test from 'ava';
import { allocSplitRing, Doorbell, DriverQueue, GuestMemory, PageAllocator, SplitRing } from '../../virtio/index.ts';
import { nextMessage, openStart, spawnTsWorker } from '../workers/spawn.ts';

interface DeviceResult {
  received: number; errors: string[]; timeouts: number; wakeups: number; batches: number;
  interrupts: number; interruptsSuppressed: number; sleeps: number;
}

test('200k buffers through a Q=256 queue between two threads, event-idx suppression', async (t) => {
  const Q = 256;
  const TOTAL = 200_000;
  const BATCH = 64;
  const mem = GuestMemory.create(4 << 20);
  const pages = new PageAllocator(mem);
  const layout = allocSplitRing(mem, pages, Q);
  // One 64-byte out buffer and one 4-byte reply slot per possible outstanding chain.
  const bufs = pages.alloc(Q * 64);
  const replies = pages.alloc(Q * 4);
  const drv = new DriverQueue<number>(mem, new SplitRing(mem, layout), { name: 'txq0', eventIdx: true });
  const kick = Doorbell.create();
  const irq = Doorbell.create();
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = spawnTsWorker('virtio-device', {
    mem: mem.share(), layout, kick: kick.share(), irq: irq.share(), total: TOTAL, batch: BATCH, gate, timeoutMs: 5000,
  });
  try {
    await nextMessage<string>(worker);
    const result = nextMessage<DeviceResult>(worker);
    openStart(gate);

    const out = [{ addr: 0, len: 64 }];
    const inn = [{ addr: 0, len: 4 }];
    const errors: string[] = [];
    let sent = 0;
    let done = 0;
    let kicks = 0;
    let sleeps = 0;
    let timeouts = 0;
    drv.disableCb();
    while (done < TOTAL && timeouts < 5 && errors.length === 0) {
      let added = 0;
      while (sent < TOTAL && added < BATCH && drv.numFree >= 2) {
        // Completions are in order and at most Q/2 chains are outstanding: slot sent % Q is free.
        const slot = sent % Q;
        out[0]!.addr = bufs + 64 * slot;
        inn[0]!.addr = replies + 4 * slot;
        mem.view.setUint32(out[0]!.addr, sent, true);
        if (drv.add(out, inn, sent) < 0) errors.push(`add ${sent} refused`);
        sent++;
        added++;
      }
      if (added > 0 && drv.kickPrepare()) {
        kick.ring();
        kicks++;
      }
      let got = 0;
      for (let tok = drv.getBuf(); tok !== undefined; tok = drv.getBuf()) {
        if (tok !== done) errors.push(`completion ${tok}, expected ${done}`);
        const reply = mem.view.getUint32(replies + 4 * (tok % Q), true);
        if (reply !== (~tok >>> 0) || drv.lastLen !== 4) errors.push(`buffer ${tok}: reply ${reply} len ${drv.lastLen}`);
        done++;
        got++;
      }
      if (got > 0 || (added > 0 && drv.numFree >= 2 && sent < TOTAL)) continue;
      // Nothing to do: arm, re-enable interrupts and re-check, sleep; poll again with them off.
      const armed = irq.arm();
      if (drv.enableCb()) {
        if (irq.wait(armed, 5000) === 'timed-out') timeouts++;
        sleeps++;
      }
      drv.disableCb();
    }
    const dev = await result;
    t.log(`driver: ${kicks} kicks (${drv.kicksSuppressed} suppressed), ${sleeps} sleeps; ` +
      `device: ${dev.interrupts} interrupts (${dev.interruptsSuppressed} suppressed), ${dev.wakeups} wake-ups, ${dev.batches} batches`);
    t.deepEqual(errors, []);
    t.deepEqual(dev.errors, []);
    t.is(done, TOTAL);
    t.is(dev.received, TOTAL);
    t.is(timeouts, 0);
    t.is(dev.timeouts, 0);
    t.is(drv.numFree, Q);
    t.is(drv.broken, null);
    t.true(kicks < TOTAL / 10, 'kicks are suppressed while the device polls');
    t.true(dev.interrupts < TOTAL / 10, 'interrupts are suppressed while the driver polls');
    t.is(kick.count(), kicks);
    t.is(irq.count(), dev.interrupts);
  } finally {
    await worker.terminate();
  }
});
