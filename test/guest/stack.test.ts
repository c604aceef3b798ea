// The guest's virtio_net as a stack device, in one thread (the rig's DeviceQueues play vhost):
// dev_queue_xmit on eth0 puts the frame on the tx ring behind a zeroed virtio_net_hdr; a full ring
// stops the queue and a completion wakes it; kicks follow event-idx suppression; frames the driver
// delivers (no program, or XDP_PASS) reach a PacketType handler as skbs, byte-exact, with the
// header's checksum flag; the rx accounting still balances.
import test from 'ava';
import { XdpProgramRunner } from '../../bpf-vm/index.ts';
import { dev_add_pack, dev_queue_xmit, net_tx_action, NET_RX_SUCCESS, NET_XMIT_DROP, NET_XMIT_SUCCESS, type PacketType } from '../../net/core/dev.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { netif_queue_stopped } from '../../net/core/netdevice.ts';
import {
  alloc_skb, CHECKSUM_NONE, CHECKSUM_UNNECESSARY, consume_skb, ETH_P_ALL, ETH_P_IP, MAX_HEADER, skb_data_bytes, skb_put, skb_reserve,
  type SkBuff,
} from '../../net/core/skbuff.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { GuestStack } from '../../guest/virtio-net/stack.ts';
import { VIRTNET_TX_STOP_THRESHOLD } from '../../guest/virtio-net/index.ts';
import { Doorbell, VQ_EMPTY, writePlainNetHdr } from '../../virtio/index.ts';
import { GuestLoop } from '../../guest/virtio-net/index.ts';
import { VhostNet } from '../../vhost/vhost-net.ts';
import type { TapSocket } from '../../vhost/tap-socket.ts';
import { udp4Frame, udp64 } from '../support/packets.ts';
import { asmXdp } from '../support/vm.ts';
import { deviceRx, deviceTx, makeRig, type Rig, rxOutcomes } from './rig.ts';

function stackRig(queueSize?: number): { r: Rig; stack: GuestStack; net: Net } {
  const r = makeRig(queueSize === undefined ? {} : { driver: { queueSize } });
  const stack = new GuestStack(r.driver, { clock: new VirtualClock(), seed: 1 });
  return { r, stack, net: stack.net };
}

/** An skb holding `frame` from its link header on, on dev, as a protocol would hand it to dev_queue_xmit. */
function frameSkb(stack: GuestStack, frame: Uint8Array): SkBuff {
  const skb = alloc_skb(MAX_HEADER + frame.length);
  skb_reserve(skb, MAX_HEADER);
  skb.head.set(frame, skb_put(skb, frame.length));
  skb.dev = stack.dev;
  return skb;
}

function collect(net: Net, type: number): { frames: Uint8Array[]; summed: number[] } {
  const got = { frames: [] as Uint8Array[], summed: [] as number[] };
  const pt: PacketType = {
    type,
    dev: null,
    func(skb) {
      // The handler sees the network header on; the link header is behind it (mac_header).
      got.frames.push(skb.head.slice(skb.mac_header, skb.tail));
      got.summed.push(skb.ip_summed);
      if (type !== ETH_P_ALL) consume_skb(skb);
      return NET_RX_SUCCESS;
    },
  };
  dev_add_pack(net, pt);
  return got;
}

test('dev_queue_xmit on eth0: the frame goes on the tx ring behind a zeroed virtio_net_hdr, byte-exact; completions are reclaimed', (t) => {
  const { r, stack } = stackRig();
  const frames = [udp4Frame({ payload: Uint8Array.of(1, 2, 3) }), udp64({ seq: 7 }), udp4Frame({ payload: new Uint8Array(1400).fill(0xab) })];
  for (const f of frames) t.is(dev_queue_xmit(frameSkb(stack, f)), NET_XMIT_SUCCESS);
  const sent = deviceTx(r);
  t.deepEqual(sent.map((s) => s.frame), frames);
  for (const s of sent) t.deepEqual([...s.hdr], new Array(12).fill(0), 'no offloads, num_buffers 0');
  let s = r.driver.virtnet_get_stats();
  t.is(s.tx_skb, 3);
  t.is(s.tx_skb_bytes, frames.reduce((n, f) => n + f.length, 0));
  t.is(stack.dev.stats.tx_packets, 3);
  t.is(s.tx_packets, 0, 'completions not reclaimed yet');
  r.driver.virtnet_poll();
  s = r.driver.virtnet_get_stats();
  t.is(s.tx_packets, 3);
  t.is(r.driver.sq.inflight, 0);
  t.is(r.driver.pool.free, r.driver.pool.count - r.driver.rq.vq.ring.size, 'every tx buffer back in the pool');
});

test('a frame larger than a buffer is refused (tx_skb_too_big) and counted as tx_dropped', (t) => {
  const { r, stack } = stackRig();
  const big = new Uint8Array(r.driver.pool.descLen - r.driver.pool.hdrLen + 1);
  t.is(dev_queue_xmit(frameSkb(stack, big)), NET_XMIT_DROP);
  t.is(r.driver.virtnet_get_stats().tx_skb_too_big, 1);
  t.is(stack.dev.stats.tx_dropped, 1);
  t.is(stack.drops.total, 1, 'freed with a drop reason');
});

test('a full ring stops the queue (fewer than 2 + MAX_SKB_FRAGS descriptors), frames offered while stopped wait on the qdisc, a completion wakes it and net_tx_action sends them', (t) => {
  const { r, stack } = stackRig(32);
  const dev = stack.dev;
  let woken = 0;
  dev.wake_callbacks.push(() => { woken++; });
  const room = 32 - VIRTNET_TX_STOP_THRESHOLD + 1;
  let ok = 0;
  while (!netif_queue_stopped(dev)) {
    t.is(dev_queue_xmit(frameSkb(stack, udp64({ seq: ok }))), NET_XMIT_SUCCESS);
    ok++;
  }
  t.is(ok, room, `stopped once fewer than ${VIRTNET_TX_STOP_THRESHOLD} descriptors were left`);
  t.is(r.driver.virtnet_get_stats().tx_queue_stops, 1);
  for (let i = 0; i < 5; i++) t.is(dev_queue_xmit(frameSkb(stack, udp64())), NET_XMIT_SUCCESS);
  t.is(dev.qdisc.qlen, 5, 'they wait on the qdisc');
  t.is(dev.stats.tx_dropped, 0);
  t.is(dev.stats.tx_packets, room);
  t.is(r.driver.virtnet_get_stats().tx_skb, room, 'the driver has not seen the queued ones');
  // A poll with nothing completed leaves it stopped...
  r.driver.virtnet_poll();
  t.true(netif_queue_stopped(dev));
  t.false(r.driver.virtqueue_poll());
  t.is(woken, 0);
  // ...the device sends one, which makes room for a worst-case packet: the poll reclaims it and
  // wakes the queue, whose waiters run.
  t.is(takeTx(r, 1), 1);
  t.true(r.driver.virtqueue_poll(), 'a stopped queue with completions waiting is work for the idle re-check');
  r.driver.virtnet_poll();
  t.false(netif_queue_stopped(dev));
  t.is(woken, 1);
  t.is(r.driver.virtnet_get_stats().tx_queue_wakes, 1);
  // NET_TX_SOFTIRQ: the qdisc drains into the ring until the driver stops the queue again.
  t.is(net_tx_action(stack.net), 1);
  t.true(netif_queue_stopped(dev));
  t.is(dev.qdisc.qlen, 4);
  t.is(r.driver.virtnet_get_stats().tx_skb, room + 1);
  t.is(dev_queue_xmit(frameSkb(stack, udp64())), NET_XMIT_SUCCESS);
  t.is(dev.qdisc.qlen, 5);
});

test('stopping the queue asks for a delayed tx interrupt (3/4 of the frames in flight), which the device raises', (t) => {
  const { r, stack } = stackRig(32);
  while (!netif_queue_stopped(stack.dev)) dev_queue_xmit(frameSkb(stack, udp64()));
  const inflight = r.driver.sq.inflight;
  // The device completes them one by one, deciding after each whether to interrupt.
  let irqs = 0, n = 0;
  for (let h = r.txDev.pop(); h !== VQ_EMPTY; h = r.txDev.pop()) {
    if (typeof h !== 'number') throw h;
    r.txDev.push(h, 0);
    n++;
    if (r.txDev.shouldNotify()) {
      irqs++;
      t.is(n, Math.floor((inflight * 3) / 4) + 1, 'the interrupt comes once 3/4 of them were sent');
    }
  }
  t.is(irqs, 1);
});

test('kicks: one per transmit while vhost sleeps (notifications on), suppressed while it polls (event idx)', (t) => {
  const { r, stack } = stackRig();
  const k0 = r.kicks[1]!;
  r.txDev.enableNotify();
  dev_queue_xmit(frameSkb(stack, udp64()));
  t.is(r.kicks[1]! - k0, 1, 'vhost asked for a kick at the next chain');
  // vhost wakes, disables notifications and polls: the chains it has not reached need no kick.
  r.txDev.disableNotify();
  deviceTx(r);
  for (let i = 0; i < 10; i++) dev_queue_xmit(frameSkb(stack, udp64()));
  const s = r.driver.virtnet_get_stats();
  t.is(r.kicks[1]! - k0, 1);
  t.is(s.tx_kicks_suppressed, 10);
  // vhost runs dry and re-enables: the next transmit kicks again.
  deviceTx(r);
  r.txDev.enableNotify();
  dev_queue_xmit(frameSkb(stack, udp64()));
  t.is(r.kicks[1]! - k0, 2);
});

test('receive with a stack: frames go up as skbs to the ETH_P_IP handler byte-exact, DATA_VALID marks them CHECKSUM_UNNECESSARY', (t) => {
  const { r, stack, net } = stackRig();
  const ip = collect(net, ETH_P_IP);
  const frames = [udp4Frame({ payload: Uint8Array.of(9) }), udp4Frame({ payload: new Uint8Array(1000).fill(3) })];
  deviceRx(r, frames);
  // A third frame whose header says the device validated the checksum.
  const head = r.rxDev.pop();
  if (typeof head !== 'number' || head === VQ_EMPTY) return t.fail('no rx buffer');
  const at = r.rxDev.chain.addr[0]!;
  writePlainNetHdr(r.mem, at, 1);
  r.mem.u8[at] = 2; // VIRTIO_NET_HDR_F_DATA_VALID
  r.mem.write(at + 12, frames[0]!);
  r.rxDev.push(head, 12 + frames[0]!.length);
  r.rxDev.shouldNotify();
  r.driver.virtnet_poll();
  t.deepEqual(ip.frames, [...frames, frames[0]!]);
  t.deepEqual(ip.summed, [CHECKSUM_NONE, CHECKSUM_NONE, CHECKSUM_UNNECESSARY]);
  t.is(stack.dev.stats.rx_packets, 3);
  const s = r.driver.virtnet_get_stats();
  t.is(s.rx_packets, 3);
  t.is(rxOutcomes(s), s.rx_frames);
});

test('receive with a stack: a protocol nobody handles is counted (rx_nohandler) and freed with its reason; taps see everything', (t) => {
  const { r, stack, net } = stackRig();
  const all = collect(net, ETH_P_ALL);
  const arpish = udp4Frame();
  arpish[12] = 0x88; arpish[13] = 0xb5; // a local experimental EtherType
  deviceRx(r, [arpish, udp64()]);
  r.driver.virtnet_poll();
  t.is(all.frames.length, 2);
  t.is(stack.dev.stats.rx_nohandler, 2, 'no IP handler registered either');
  t.is(stack.drops.counters()['skb_drop_UNHANDLED_PROTO'], 2);
});

test('XDP_PASS with a stack: the frame as the program left it reaches the stack; XDP_DROP frames never do; accounting balances', (t) => {
  const { r, net } = stackRig();
  const ip = collect(net, ETH_P_ALL);
  // Pass frames whose first byte is even, drop the others.
  r.driver.virtnet_xdp_set(new XdpProgramRunner(asmXdp([
    'ldxw %r2, [%r1+0]', 'ldxw %r3, [%r1+4]', 'mov %r0, 1', 'mov %r4, %r2', 'add %r4, 1', 'jgt %r4, %r3, out',
    'ldxb %r5, [%r2+0]', 'and %r5, 1', 'jne %r5, 0, out', 'mov %r0, 2', 'out:', 'exit',
  ].join('\n')), { engine: 'interp' }));
  const frames = Array.from({ length: 8 }, (_, i) => { const f = udp64({ seq: i }); f[0] = i; return f; });
  deviceRx(r, frames);
  r.driver.virtnet_poll();
  t.deepEqual(ip.frames, frames.filter((_, i) => i % 2 === 0));
  const s = r.driver.virtnet_get_stats();
  t.is(s.rx_packets, 4);
  t.is(s.rx_xdp_drops, 4);
  t.is(rxOutcomes(s), s.rx_frames);
});

test('replies sent from netif_receive_skb ride on the poll\'s one tx kick (xmit_more-like batching)', (t) => {
  const { r, stack, net } = stackRig();
  const echo: PacketType = {
    type: ETH_P_IP,
    dev: null,
    func(skb) {
      const reply = frameSkb(stack, skb.head.slice(skb.mac_header, skb.tail));
      consume_skb(skb);
      return dev_queue_xmit(reply);
    },
  };
  dev_add_pack(net, echo);
  r.txDev.enableNotify();
  const k0 = r.kicks[1]!;
  const frames = Array.from({ length: 20 }, (_, i) => udp64({ seq: i }));
  deviceRx(r, frames);
  r.driver.virtnet_poll();
  t.is(r.kicks[1]! - k0, 1, 'one kick for 20 replies');
  t.deepEqual(deviceTx(r).map((x) => x.frame), frames);
  t.is(r.driver.virtnet_get_stats().tx_skb, 20);
});

test('no stack: delivered frames are only counted, as before (the XDP benchmarks)', (t) => {
  const r = makeRig();
  deviceRx(r, [udp64(), udp64()]);
  r.driver.virtnet_poll();
  t.is(r.driver.rq.netdev, undefined);
  t.is(r.driver.virtnet_get_stats().rx_packets, 2);
  t.is(r.delivered.length, 2);
});

test('the stack\'s skb bytes are copied out: the skb is freed at transmit, not at completion', (t) => {
  const { r, stack } = stackRig();
  const skb = frameSkb(stack, udp64({ seq: 1 }));
  const bytes = skb_data_bytes(skb);
  dev_queue_xmit(skb);
  // Reuse the pooled buffer at once: the frame in guest memory must not change.
  const other = frameSkb(stack, new Uint8Array(bytes.length).fill(0xee));
  consume_skb(other);
  t.deepEqual(deviceTx(r)[0]?.frame, bytes);
});

function takeTx(r: Rig, n: number): number {
  let k = 0;
  for (; k < n; k++) {
    const h = r.txDev.pop();
    if (typeof h !== 'number' || h === VQ_EMPTY) break;
    r.txDev.push(h, 0);
  }
  r.txDev.flush();
  return k;
}

test('the run loop with a stack: a round where the stack worked does not sleep; pending timers cap the sleep at a jiffy', (t) => {
  const { r } = stackRig();
  let work = 1, timers = false, runs = 0;
  const stack = { run: () => { runs++; return work; }, timersPending: () => timers, counters: () => ({ app_x: 7 }) };
  const loop = new GuestLoop(r.driver, { irq: Doorbell.create(), stop: new Int32Array(new SharedArrayBuffer(4)), waitMs: 60_000, stack });
  loop.round();
  t.is(runs, 2, 'the stack runs before NAPI and again after it (NET_TX_SOFTIRQ, the woken applications)');
  t.is(loop.stats.loop_sleeps, 0, 'the stack had work: poll again rather than sleep');
  work = 0;
  timers = true;
  // With a 60 s wait this round would hang without the cap; with it, it times out after a jiffy.
  loop.round();
  t.is(loop.stats.loop_sleeps, 1);
  t.is(loop.stats.loop_timeouts, 1);
  t.is(loop.counterRecord()['app_x'], 7, 'the stack\'s counters are part of the guest\'s');
});

test('vhost refuses a transmit header asking for offloads that were not negotiated (tx_bad_hdr), and returns the buffer', (t) => {
  const { r, stack } = stackRig();
  const sock = { sendmsg: () => { sent++; }, flushTx: () => undefined } as unknown as TapSocket;
  let sent = 0;
  const vhost = new VhostNet(r.mem, r.started, sock, () => undefined);
  dev_queue_xmit(frameSkb(stack, udp64()));
  dev_queue_xmit(frameSkb(stack, udp64()));
  // The guest's first header asks for a checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) without VIRTIO_NET_F_CSUM.
  const ring = r.driver.sq.vq.ring;
  const head = ring.avail16[2]!;
  r.mem.u8[ring.desc32[4 * head]!] = 1;
  t.is(vhost.handleTx(), 1);
  t.is(vhost.stats.tx_bad_hdr, 1);
  t.is(sent, 1);
  r.driver.virtnet_poll();
  t.is(r.driver.sq.inflight, 0, 'both buffers came back');
});

test('XDP_TX and the stack share the tx ring: bounces take what the stopped stack left, the rest are counted drops, completions wake the stack', (t) => {
  const { r, stack } = stackRig(32);
  r.driver.virtnet_xdp_set(new XdpProgramRunner(asmXdp('mov %r0, 3\nexit'), { engine: 'interp' }));
  while (!netif_queue_stopped(stack.dev)) dev_queue_xmit(frameSkb(stack, udp64()));
  const free = r.driver.sq.vq.numFree;
  deviceRx(r, Array.from({ length: free + 5 }, (_, i) => udp64({ seq: i })));
  r.driver.virtnet_poll();
  let s = r.driver.virtnet_get_stats();
  t.is(s.tx_xdp_tx, free, 'XDP_TX filled the descriptors the stack no longer uses');
  t.is(s.tx_xdp_tx_drops, 5);
  t.is(s.rx_xdp_tx, s.tx_xdp_tx + s.tx_xdp_tx_drops);
  t.true(netif_queue_stopped(stack.dev));
  const sent = deviceTx(r);
  t.is(sent.length, 32);
  r.driver.virtnet_poll();
  s = r.driver.virtnet_get_stats();
  t.false(netif_queue_stopped(stack.dev));
  t.is(s.tx_packets, 32, 'the stack\'s and the program\'s frames alike');
  t.is(rxOutcomes(s), s.rx_frames);
});
