// The NAPI rx path in one thread: a DeviceQueue plays vhost (copies frames into popped rx buffers),
// the driver polls. Native XDP on every engine: xdp1 drops and counts, xdp2 bounces through the
// tx queue without a copy, PASS delivers, malformed used entries are counted and recycled, the
// ring stays full, and event-idx suppression shows in the counters.
import test from 'ava';
import { ENGINES, type EngineName, XdpProgramRunner } from '../../bpf-vm/index.ts';
import { icmp4EchoFrame, udp64 } from '../support/packets.ts';
import { asmXdp, u64At, XDP_DIR } from '../support/vm.ts';
import { loadNativeXdp, NAPI, VirtnetError } from '../../guest/virtio-net/index.ts';
import { deviceRx, deviceTx, makeRig, pollUntilDone, type Rig, rxOutcomes } from './rig.ts';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import { VQ_EMPTY } from '../../virtio/index.ts';

function attach(r: Rig, object: string, engine: EngineName) {
  const x = loadNativeXdp({ object: `${XDP_DIR}${object}`, engine });
  r.driver.virtnet_xdp_set(x.runner);
  return x;
}

function attachAsm(r: Rig, src: string, engine: EngineName): void {
  r.driver.virtnet_xdp_set(new XdpProgramRunner(asmXdp(src), { engine }));
}

function swapped(f: Uint8Array): Uint8Array {
  const e = f.slice();
  e.set(f.subarray(6, 12), 0);
  e.set(f.subarray(0, 6), 6);
  return e;
}

test('PASS without a program: frames reach the stack intact, buffers go back to the ring', (t) => {
  const r = makeRig();
  const frames = [udp64({ seq: 1 }), icmp4EchoFrame(), udp64({ seq: 2 })];
  t.is(deviceRx(r, frames), 3);
  t.is(r.driver.virtnet_poll(), NAPI.DONE);
  t.deepEqual(r.delivered, frames);
  const s = r.driver.virtnet_get_stats();
  t.is(s.rx_packets, 3);
  t.is(s.rx_bytes, frames.reduce((n, f) => n + f.length, 0));
  t.is(s.rx_xdp_packets, 0);
  t.is(r.driver.rq.vq.outstanding, r.driver.rq.vq.ring.size);
});

for (const engine of ENGINES) {
  test(`${engine}: xdp1 drops every frame and counts them by protocol in rxcnt`, (t) => {
    const r = makeRig();
    const x = attach(r, 'xdp1.o', engine);
    const n = 200;
    const frames = Array.from({ length: n }, (_, i) => (i % 4 === 3 ? icmp4EchoFrame() : udp64({ seq: i })));
    t.is(deviceRx(r, frames), n);
    t.is(r.driver.virtnet_poll(), NAPI.MORE, 'a full budget: poll again');
    t.is(r.driver.lastWork, 64);
    t.is(pollUntilDone(r), 3);
    const s = r.driver.virtnet_get_stats();
    t.is(s.rx_xdp_drops, n);
    t.is(s.rx_xdp_packets, n);
    t.is(s.rx_packets, 0);
    t.is(rxOutcomes(s), s.rx_frames);
    t.deepEqual(r.delivered, []);
    const rxcnt = openSharedMap(x.maps.rxcnt!);
    t.is(u64At(rxcnt, 17), 150n);
    t.is(u64At(rxcnt, 1), 50n);
    t.is(r.driver.rq.vq.outstanding, r.driver.rq.vq.ring.size, 'refilled to full');
  });

  test(`${engine}: xdp2 bounces UDP through the tx queue in the rx buffer itself, MACs swapped`, (t) => {
    const r = makeRig();
    attach(r, 'xdp2.o', engine);
    const frames = [udp64({ seq: 1 }), icmp4EchoFrame(), udp64({ seq: 2 }), udp64({ seq: 3 })];
    const rxAddrs: number[] = [];
    // Remember which buffers the device filled, to show the tx chains point into them.
    for (let i = 0; i < 4; i++) rxAddrs.push(r.driver.pool.hdrAddr(i));
    deviceRx(r, frames);
    const kicksBefore = r.kicks[1]!;
    t.is(r.driver.virtnet_poll(), NAPI.DONE);
    t.is(r.kicks[1]! - kicksBefore, 1, 'one tx kick per poll');
    const sent = deviceTx(r);
    t.deepEqual(sent.map((f) => f.frame), [frames[0]!, frames[2]!, frames[3]!].map(swapped));
    for (const f of sent) t.deepEqual([...f.hdr], new Array(12).fill(0), 'zeroed virtio_net_hdr, num_buffers 0');
    t.deepEqual(sent.map((f) => f.addr), [rxAddrs[0], rxAddrs[2], rxAddrs[3]], 'no copy: the header sits where the rx header was');
    let s = r.driver.virtnet_get_stats();
    t.is(s.rx_xdp_tx, 3);
    t.is(s.tx_xdp_tx, 3);
    t.is(s.rx_xdp_drops, 1);
    t.is(s.tx_packets, 0, 'not reclaimed yet');
    t.is(r.driver.pool.free, r.driver.sq.vq.ring.size - 3, 'three buffers out on the tx ring');
    t.is(r.driver.rq.vq.outstanding, r.driver.rq.vq.ring.size, 'rx refilled from the pool meanwhile');
    t.is(r.driver.virtnet_poll(), NAPI.DONE);
    s = r.driver.virtnet_get_stats();
    t.is(s.tx_packets, 3, 'free_old_xmit reclaimed them at the next poll');
    t.is(s.tx_bytes, 3 * 60);
    t.is(r.driver.pool.free, r.driver.sq.vq.ring.size);
  });

  test(`${engine}: XDP_TX after adjust_head sends the moved frame, header in the headroom`, (t) => {
    const r = makeRig();
    attachAsm(r, 'mov %r2, -14\ncall 44\nmov %r0, 3\nexit', engine);
    const f = udp64();
    deviceRx(r, [f]);
    r.driver.virtnet_poll();
    const [sent] = deviceTx(r);
    t.is(sent?.frame.length, 14 + f.length);
    t.deepEqual(sent?.frame.subarray(14), f);
    t.is(sent?.addr, r.driver.pool.bufAddr(0) + 256 + 12 - 14 - 12);
  });

  test(`${engine}: XDP_PASS delivers the frame as the program left it (adjust_head)`, (t) => {
    const r = makeRig();
    attachAsm(r, 'mov %r2, 14\ncall 44\nmov %r0, 2\nexit', engine);
    const f = udp64();
    deviceRx(r, [f, f]);
    r.driver.virtnet_poll();
    t.deepEqual(r.delivered, [f.subarray(14), f.subarray(14)]);
    const s = r.driver.virtnet_get_stats();
    t.is(s.rx_packets, 2);
    t.is(s.rx_bytes, 2 * (f.length - 14));
    t.is(s.rx_xdp_packets, 2);
  });

  test(`${engine}: ABORTED, REDIRECT and unknown actions are counted and dropped`, (t) => {
    const traced: number[] = [];
    const r = makeRig({ driver: { traceXdpException: (act) => { traced.push(act); } } });
    for (const [act, n] of [[0, 2], [4, 3], [7, 1]] as const) {
      attachAsm(r, `mov %r0, ${act}\nexit`, engine);
      deviceRx(r, Array.from({ length: n }, () => udp64()));
      r.driver.virtnet_poll();
    }
    const s = r.driver.virtnet_get_stats();
    t.is(s.rx_xdp_aborted, 3);
    t.is(s.rx_xdp_redirects, 3);
    t.deepEqual(traced, [0, 0, 7]);
    t.is(rxOutcomes(s), 6);
    t.deepEqual(r.delivered, []);
    t.is(r.driver.pool.free, r.driver.sq.vq.ring.size);
  });

  test(`${engine}: a full tx ring drops XDP_TX frames (tx_xdp_tx_drops) and rx stays full`, (t) => {
    const r = makeRig({ driver: { queueSize: 64 } });
    attach(r, 'xdp2.o', engine);
    const batch = Array.from({ length: 64 }, (_, i) => udp64({ seq: i }));
    deviceRx(r, batch);
    pollUntilDone(r);
    t.is(r.driver.sq.inflight, 64, 'tx ring full, the device has not sent anything');
    deviceRx(r, batch);
    pollUntilDone(r);
    let s = r.driver.virtnet_get_stats();
    t.is(s.tx_xdp_tx, 64);
    t.is(s.tx_xdp_tx_drops, 64);
    t.is(s.rx_xdp_tx, 128);
    t.is(r.driver.rq.vq.outstanding, 64);
    t.is(deviceTx(r).length, 64);
    deviceRx(r, batch.slice(0, 10));
    pollUntilDone(r);
    s = r.driver.virtnet_get_stats();
    t.is(s.tx_packets, 64);
    t.is(s.tx_xdp_tx, 74);
    t.is(rxOutcomes(s), s.rx_frames);
  });
}

test('used lengths shorter than the header or longer than the buffer: rx_length_errors, buffer recycled', (t) => {
  const r = makeRig();
  deviceRx(r, [udp64()], { usedLen: 5 });
  deviceRx(r, [udp64()], { usedLen: 1537 });
  deviceRx(r, [udp64()], { usedLen: 12 });
  deviceRx(r, [udp64({ seq: 9 })]);
  t.is(r.driver.virtnet_poll(), NAPI.DONE);
  const s = r.driver.virtnet_get_stats();
  t.is(s.rx_length_errors, 2);
  t.is(s.rx_packets, 2, 'a header-only frame is a (0-byte) frame; the good one passes');
  t.deepEqual(r.delivered, [new Uint8Array(0), udp64({ seq: 9 })]);
  t.is(r.driver.rq.vq.outstanding, r.driver.rq.vq.ring.size);
  t.is(r.driver.pool.free, r.driver.sq.vq.ring.size, 'every buffer back');
});

test('num_buffers > 1 (a frame split across buffers) drops the frame with all its buffers; 0 is a length error', (t) => {
  const r = makeRig();
  deviceRx(r, [udp64()], { numBuffers: 3 });
  deviceRx(r, [udp64(), udp64()]);
  deviceRx(r, [udp64()], { numBuffers: 0 });
  deviceRx(r, [udp64({ seq: 5 })]);
  r.driver.virtnet_poll();
  const s = r.driver.virtnet_get_stats();
  t.is(s.rx_drops, 1);
  t.is(s.rx_length_errors, 1);
  t.is(s.rx_buffers, 5, 'the split frame took the next two buffers with it');
  t.is(s.rx_frames, 3);
  t.deepEqual(r.delivered, [udp64({ seq: 5 })]);
  t.is(rxOutcomes(s), s.rx_frames);
});

test('refill keeps the rx ring full across many polls, one publish and kick decision per poll', (t) => {
  const r = makeRig();
  const q = r.driver.rq.vq.ring.size;
  for (let round = 0; round < 10; round++) {
    deviceRx(r, Array.from({ length: 64 }, () => udp64()));
    r.driver.virtnet_poll();
    t.is(r.driver.rq.vq.outstanding, q);
  }
  const s = r.driver.virtnet_get_stats();
  t.is(s.rx_refills, q + 640);
  t.is(s.rx_kicks + s.rx_kicks_suppressed, 11, 'the probe fill and one per poll');
  t.is(s.rx_refill_short, 0);
});

test('event idx: interrupts only when the driver re-enabled callbacks; kicks only when vhost re-enabled', (t) => {
  const r = makeRig();
  const one = [udp64()];
  // Callbacks on after probe: the first used buffer interrupts, the next ones before a poll do not.
  deviceRx(r, one);
  t.is(r.irqs.n, 1);
  deviceRx(r, one);
  deviceRx(r, one);
  t.is(r.irqs.n, 1, 'used_event already passed: no interrupt until the driver polls');
  t.is(r.driver.virtnet_poll(), NAPI.DONE);
  deviceRx(r, one);
  t.is(r.irqs.n, 2, 'callbacks re-enabled by the completed poll');
  // A busy poll (budget exhausted) leaves callbacks off.
  deviceRx(r, Array.from({ length: 100 }, () => udp64()));
  t.is(r.driver.virtnet_poll(), NAPI.MORE);
  deviceRx(r, Array.from({ length: 30 }, () => udp64()));
  t.is(r.irqs.n, 2, 'no interrupt while NAPI runs');
  t.is(pollUntilDone(r), 2);
  t.true(r.rxDev.interruptsSuppressed >= 4);
  // Kicks: vhost never re-enabled notifications after its first pops, so refills go unkicked.
  const s = r.driver.virtnet_get_stats();
  t.is(s.rx_kicks, 1, 'only the first fill kicked');
  t.true(s.rx_kicks_suppressed >= 3);
  // vhost uses up every buffer and, finding the ring empty, re-enables kicks before sleeping:
  // the refill that follows kicks.
  const q = r.driver.rq.vq.ring.size;
  t.is(deviceRx(r, Array.from({ length: q }, () => udp64())), q);
  t.is(r.rxDev.pop(), VQ_EMPTY);
  t.false(r.rxDev.enableNotify());
  pollUntilDone(r);
  t.is(r.driver.virtnet_get_stats().rx_kicks, 2);
  t.is(r.kicks[0], 2);
});

test('napi: a buffer that lands between the last getBuf and the re-enable is found by the re-check', (t) => {
  // The device reacts to the refill's kick at once, inside the poll: after the receive loop saw
  // an empty ring and before callbacks are re-enabled. No interrupt will come for that buffer.
  let armed = false;
  const r: Rig = makeRig({
    driver: { queueSize: 64 },
    onKick: (q) => {
      if (q === 0 && armed) { armed = false; deviceRx(r, [udp64({ seq: 2 })]); }
    },
  });
  t.is(deviceRx(r, Array.from({ length: 64 }, () => udp64())), 64);
  t.is(r.rxDev.pop(), VQ_EMPTY);
  t.false(r.rxDev.enableNotify(), 'vhost is out of buffers and waits for a kick');
  armed = true;
  t.is(r.driver.virtnet_poll(128), NAPI.MORE, 'under budget, but the re-check found a buffer');
  let s = r.driver.virtnet_get_stats();
  t.is(s.rx_packets, 64);
  t.is(s.napi_repoll, 1);
  t.is(r.driver.virtnet_poll(128), NAPI.DONE);
  s = r.driver.virtnet_get_stats();
  t.is(s.rx_packets, 65);
  t.false(r.driver.virtqueue_poll());
  deviceRx(r, [udp64({ seq: 3 })]);
  t.true(r.driver.virtqueue_poll(), 'after done, a new used buffer shows up in virtqueue_poll');
});

test('a device returning a buffer the driver never gave it breaks the queue: virtnet_poll throws EIO', (t) => {
  const r = makeRig();
  r.txDev.push(5, 0);
  r.txDev.flush();
  const e = t.throws(() => r.driver.virtnet_poll(), { instanceOf: VirtnetError });
  t.is(e?.code, 'EIO');
  t.regex(e?.message ?? '', /not an outstanding head/);
});
