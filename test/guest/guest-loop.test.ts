// The guest run loop in one thread: rounds of NAPI polls, the arm / re-check / sleep on the
// interrupt doorbell, the stop cell, and counters published into shared memory.
import test from 'ava';
import { Doorbell, ShmCounters } from '../../virtio/index.ts';
import { ENGINES } from '../../bpf-vm/index.ts';
import { udp64 } from '../support/packets.ts';
import { XDP_DIR } from '../support/vm.ts';
import { GUEST_STAT_NAMES, GuestLoop, loadNativeXdp, VIRTNET_STAT_NAMES } from '../../guest/virtio-net/index.ts';
import { deviceRx, makeRig } from './rig.ts';

function setup(opts: { publishEvery?: number; pollsPerRound?: number } = {}) {
  const r = makeRig();
  const irq = Doorbell.create();
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const counters = ShmCounters.create(GUEST_STAT_NAMES);
  const loop = new GuestLoop(r.driver, { irq, stop, counters, waitMs: 5, ...opts });
  return { r, irq, stop, counters, loop };
}

test('the published names are the driver\'s counters and the loop\'s', (t) => {
  t.deepEqual(GUEST_STAT_NAMES.slice(0, VIRTNET_STAT_NAMES.length), [...VIRTNET_STAT_NAMES]);
  t.true(GUEST_STAT_NAMES.includes('loop_sleeps'));
  t.is(new Set(GUEST_STAT_NAMES).size, GUEST_STAT_NAMES.length);
});

test('a set stop cell ends run() before any poll, with the counters published', (t) => {
  const { r, stop, counters, loop } = setup();
  Atomics.store(stop, 0, 1);
  loop.run();
  t.is(loop.stats.loop_rounds, 0);
  t.is(r.driver.stats.napi_polls, 0);
  t.is(counters.get('rx_refills'), r.driver.rq.vq.ring.size);
});

for (const engine of ENGINES) {
  test(`${engine}: a round polls until done, publishes, then sleeps (time-out: nobody rang after the arm)`, (t) => {
    const { r, irq, counters, loop } = setup();
    r.driver.virtnet_xdp_set(loadNativeXdp({ object: `${XDP_DIR}xdp1.o`, engine }).runner);
    deviceRx(r, Array.from({ length: 150 }, () => udp64()));
    if (r.irqs.n > 0) irq.ring();
    loop.round();
    t.is(r.driver.stats.napi_polls, 3);
    t.is(counters.get('rx_xdp_drops'), 150);
    t.is(counters.get('napi_polls'), 3);
    t.is(loop.stats.loop_sleeps, 1);
    t.is(loop.stats.loop_timeouts, 1, 'the interrupt rang before the arm: the poll already took its buffers');
    t.is(counters.get('loop_sleeps'), 1);
  });
}

test('under continuous traffic a round ends after pollsPerRound polls without sleeping', (t) => {
  const { r, loop } = setup({ pollsPerRound: 2 });
  deviceRx(r, Array.from({ length: 256 }, () => udp64()));
  loop.round();
  t.is(r.driver.stats.rx_packets, 128);
  t.is(loop.stats.loop_sleeps, 0);
  loop.round();
  t.is(r.driver.stats.rx_packets, 256);
  t.is(loop.stats.loop_sleeps, 0, 'the last poll took a full budget: it cannot know the ring is empty');
  loop.round();
  t.is(r.driver.stats.napi_polls, 5);
  t.is(loop.stats.loop_sleeps, 1);
});
