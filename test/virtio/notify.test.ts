// Notification suppression: kicks (driver -> device) and interrupts (device -> driver), with
// EVENT_IDX (avail_event / used_event) and without (used.flags NO_NOTIFY / avail.flags NO_INTERRUPT),
// and the re-checks that keep a notification from being lost when a side re-enables them.
import test from 'ava';
import { allocSplitRing, DeviceQueue, DriverQueue, GuestMemory, PageAllocator, SplitRing, VQ_EMPTY } from '../../virtio/index.ts';

function setup(q: number, eventIdx: boolean) {
  const mem = GuestMemory.create(1 << 20);
  const pages = new PageAllocator(mem);
  const layout = allocSplitRing(mem, pages, q);
  const drv = new DriverQueue<number>(mem, new SplitRing(mem, layout), { name: 'rxq0', eventIdx });
  const dev = new DeviceQueue(mem, new SplitRing(mem, layout), { name: 'rxq0', eventIdx });
  return { drv, dev, ring: new SplitRing(mem, layout) };
}

function drain(dev: DeviceQueue): number[] {
  const heads: number[] = [];
  for (let h = dev.pop(); h !== VQ_EMPTY; h = dev.pop()) heads.push(h as number);
  return heads;
}

test('EVENT_IDX kicks: the first chain after enableNotify kicks, later ones while polling do not', (t) => {
  const { drv, dev, ring } = setup(64, true);
  drv.addBuf(0x8000, 64, false, 0);
  t.true(drv.kickPrepare(), 'avail_event 0 lies in [0, 1)');
  dev.disableNotify();
  t.deepEqual(drain(dev), [0]);
  for (let i = 1; i <= 5; i++) {
    drv.addBuf(0x8000, 64, false, i);
    t.false(drv.kickPrepare(), `chain ${i}: the device is polling, avail_event stays at 0`);
  }
  t.deepEqual(drain(dev), [1, 2, 3, 4, 5]);
  // Going to sleep: enable, re-check finds nothing, avail_event = last_avail_idx = 6.
  t.false(dev.enableNotify());
  t.is(ring.availEvent(), 6);
  drv.addBuf(0x8000, 64, false, 6);
  drv.addBuf(0x8000, 64, false, 7);
  t.true(drv.kickPrepare(), 'a batch of two covering avail_event 6: one kick');
  drv.addBuf(0x8000, 64, false, 8);
  t.false(drv.kickPrepare(), 'already kicked for index 6: no second kick until the device re-arms');
  t.is(drv.kicksNeeded, 2);
  t.is(drv.kicksSuppressed, 6);
});

test('EVENT_IDX kicks: a chain published between the device\'s last pop and its enable is found by the re-check', (t) => {
  const { drv, dev } = setup(8, true);
  dev.disableNotify();
  drv.addBuf(0x8000, 64, false, 0);
  drv.kickPrepare();
  t.deepEqual(drain(dev), [0]);
  // The driver publishes while the device still has notifications off: no kick...
  drv.addBuf(0x8000, 64, false, 1);
  t.false(drv.kickPrepare());
  // ...so the device must see the chain in its re-check, or it would sleep on it forever.
  t.true(dev.enableNotify());
  dev.disableNotify();
  t.deepEqual(drain(dev), [1]);
  t.false(dev.enableNotify());
});

test('without EVENT_IDX kicks follow used.flags NO_NOTIFY', (t) => {
  const { drv, dev, ring } = setup(8, false);
  drv.addBuf(0x8000, 64, false, 0);
  t.true(drv.kickPrepare());
  t.false(drv.kickPrepare(), 'nothing added: no kick');
  dev.disableNotify();
  t.is(ring.usedFlags(), 1);
  drv.addBuf(0x8000, 64, false, 1);
  t.false(drv.kickPrepare());
  t.deepEqual(drain(dev), [0, 1]);
  t.false(dev.enableNotify());
  t.is(ring.usedFlags(), 0);
  drv.addBuf(0x8000, 64, false, 2);
  t.true(drv.kickPrepare());
});

test('EVENT_IDX interrupts: one per batch the driver asked for, none while it polls', (t) => {
  const { drv, dev, ring } = setup(16, true);
  for (let i = 0; i < 8; i++) drv.addBuf(0x8000, 64, true, i);
  drv.kickPrepare();
  const heads = drain(dev);
  t.true(drv.enableCb(), 'nothing used yet: safe to sleep');
  t.is(ring.usedEvent(), 0);
  dev.push(heads[0]!, 10);
  dev.push(heads[1]!, 10);
  t.true(dev.shouldNotify(), 'used_event 0 passed by the batch [0, 2)');
  dev.push(heads[2]!, 10);
  t.false(dev.shouldNotify(), 'the driver has not re-armed: suppressed');
  // NAPI: poll with interrupts disabled, then re-enable.
  drv.disableCb();
  t.is(drv.getBuf(), 0);
  t.is(drv.getBuf(), 1);
  t.is(drv.getBuf(), 2);
  t.is(drv.getBuf(), undefined);
  dev.push(heads[3]!, 10);
  t.false(dev.shouldNotify(), 'disabled: used_event is far away');
  t.false(drv.enableCb(), 'the re-check finds entry 3, which came while interrupts were off');
  t.is(drv.getBuf(), 3);
  t.true(drv.enableCb());
  t.is(ring.usedEvent(), 4);
  dev.push(heads[4]!, 10);
  t.true(dev.shouldNotify());
  t.is(dev.interruptsNeeded, 2);
  t.is(dev.interruptsSuppressed, 2);
});

test('EVENT_IDX interrupts: with callbacks on, getBuf keeps used_event at the next entry once per batch', (t) => {
  const { drv, dev, ring } = setup(16, true);
  for (let i = 0; i < 4; i++) drv.addBuf(0x8000, 64, true, i);
  drv.kickPrepare();
  const heads = drain(dev);
  dev.push(heads[0]!, 1);
  t.true(dev.shouldNotify());
  t.is(drv.getBuf(), 0);
  t.is(drv.getBuf(), undefined);
  t.is(ring.usedEvent(), 1, 'updated when the batch ran out');
  dev.push(heads[1]!, 1);
  t.true(dev.shouldNotify());
});

test('enableCbDelayed asks for an interrupt after 3/4 of the outstanding buffers', (t) => {
  const { drv, dev, ring } = setup(16, true);
  for (let i = 0; i < 8; i++) drv.addBuf(0x8000, 64, false, i);
  drv.kickPrepare();
  const heads = drain(dev);
  drv.disableCb();
  t.true(drv.enableCbDelayed());
  t.is(ring.usedEvent(), 6);
  for (let i = 0; i < 6; i++) dev.push(heads[i]!, 0);
  t.false(dev.shouldNotify(), 'entries 0..5 do not reach used_event 6');
  dev.push(heads[6]!, 0);
  t.true(dev.shouldNotify());
  // Too late: more than 3/4 already used when re-enabling -> false (keep collecting).
  const b = setup(16, true);
  for (let i = 0; i < 8; i++) b.drv.addBuf(0x8000, 64, false, i);
  b.drv.kickPrepare();
  for (const h of drain(b.dev)) b.dev.push(h, 0);
  b.dev.flush();
  t.false(b.drv.enableCbDelayed());
});

test('without EVENT_IDX interrupts follow avail.flags NO_INTERRUPT', (t) => {
  const { drv, dev, ring } = setup(8, false);
  for (let i = 0; i < 4; i++) drv.addBuf(0x8000, 64, true, i);
  drv.kickPrepare();
  const heads = drain(dev);
  dev.push(heads[0]!, 1);
  t.true(dev.shouldNotify());
  t.false(dev.shouldNotify(), 'nothing new since the last decision');
  drv.disableCb();
  t.is(ring.availFlags(), 1);
  dev.push(heads[1]!, 1);
  t.false(dev.shouldNotify());
  t.false(drv.enableCb(), 'entry 1 arrived meanwhile');
  t.is(ring.availFlags(), 0);
  dev.push(heads[2]!, 1);
  t.true(dev.shouldNotify());
});
