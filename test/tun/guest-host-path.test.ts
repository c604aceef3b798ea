// The machines' data path between two stacks, in one thread: the guest's eth0 (virtio_net over
// the QEMU device model) -> tx virtqueue -> vhost handle_tx -> tun_get_user and the tap's Rx path
// -> the host backlog -> the bridge -> br0 -> the host's Net, and back: the host's br0 -> bridge
// -> tun_net_xmit -> tap ring -> vhost handle_rx -> rx virtqueue -> the guest's Net. Frames are
// hand-built Ethernet frames; PacketType handlers stand in for IP.
import test from 'ava';
import { BootState } from '../../net/core/boot-state.ts';
import { dev_add_pack, dev_queue_xmit, net_tx_action, NET_RX_SUCCESS, NET_XMIT_SUCCESS, type PacketType } from '../../net/core/dev.ts';
import { Net } from '../../net/core/net-namespace.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import { alloc_skb, consume_skb, ETH_P_IP, MAX_HEADER, skb_put, skb_reserve, type SkBuff } from '../../net/core/skbuff.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { GuestStack } from '../../guest/virtio-net/stack.ts';
import { BR0_DEFAULT_MAC, HostNet, parseMac } from '../../host/net/index.ts';
import { SockWait, SoftnetBacklog } from '../../tun/index.ts';
import { HostLoop, HOST_CTL } from '../../host/host-loop.ts';
import { HostStack } from '../../host/net/host-stack.ts';
import { XdpProgramRunner } from '../../bpf-vm/index.ts';
import { TunSocket } from '../../vhost/tun-socket.ts';
import { VhostNet } from '../../vhost/vhost-net.ts';
import { udp4Frame } from '../support/packets.ts';
import { asmXdp } from '../support/vm.ts';
import { makeRig, type Rig } from '../guest/rig.ts';
import { tapFixture, type TapFixture } from './tap-fixture.ts';

const BR0 = parseMac(BR0_DEFAULT_MAC);

interface Path {
  r: Rig;
  guest: GuestStack;
  hostNet: Net;
  host: HostNet;
  vhost: VhostNet;
  tap: TapFixture;
  backlog: SoftnetBacklog;
  guestRx: Uint8Array[];
  hostRx: Uint8Array[];
  irqs: { n: number };
}

function collector(net: Net, into: Uint8Array[]): void {
  const pt: PacketType = {
    type: ETH_P_IP,
    dev: null,
    func(skb) {
      into.push(skb.head.slice(skb.mac_header, skb.tail));
      consume_skb(skb);
      return NET_RX_SUCCESS;
    },
  };
  dev_add_pack(net, pt);
}

function makePath(o: { queueSize?: number; backlogSlots?: number } = {}): Path {
  const r = makeRig(o.queueSize === undefined ? {} : { driver: { queueSize: o.queueSize } });
  const clock = new VirtualClock();
  const guest = new GuestStack(r.driver, { clock, seed: 1 });
  const hostNet = new Net(new BootState({ clock, seed: 2 }));
  const tap = tapFixture({ frames: 512 });
  const backlog = SoftnetBacklog.create(o.backlogSlots ?? 1024);
  tap.rx.backlog = backlog;
  const host = new HostNet({ case: 'bridge', pool: tap.pool, tap: tap.xmit, wire: false, backlog, stack: hostNet });
  const irqs = { n: 0 };
  const sock = new TunSocket(tap.recv, tap.rx, tap.rx.pool, tap.remote);
  const vhost = new VhostNet(r.mem, r.started, sock, () => { irqs.n++; });
  const guestRx: Uint8Array[] = [];
  const hostRx: Uint8Array[] = [];
  collector(guest.net, guestRx);
  collector(hostNet, hostRx);
  return { r, guest, hostNet, host, vhost, tap, backlog, guestRx, hostRx, irqs };
}

function skbOn(dev: NetDevice, frame: Uint8Array): SkBuff {
  const skb = alloc_skb(MAX_HEADER + frame.length);
  skb_reserve(skb, MAX_HEADER);
  skb.head.set(frame, skb_put(skb, frame.length));
  skb.dev = dev;
  return skb;
}

function frame(dst: Uint8Array, src: Uint8Array, seq: number, size = 64): Uint8Array {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (seq * 7 + i) & 0xff;
  const f = udp4Frame({ payload });
  f.set(dst, 0);
  f.set(src, 6);
  return f;
}

/** Everything moves until nothing does: vhost both ways, the host's backlog, the guest's NAPI. */
function settle(p: Path): void {
  for (let i = 0; i < 1000; i++) {
    const n = p.vhost.handleTx() + p.vhost.handleRx() + p.host.process_backlog();
    let g = 0;
    while (p.r.driver.virtnet_poll() === 'more') g++;
    if (n === 0 && p.r.driver.lastWork === 0 && g === 0) return;
  }
}

test('guest -> host: dev_queue_xmit on eth0 arrives at the host Net\'s handler byte-exact (tx vq, handle_tx, tun_get_user, backlog, bridge, br0)', (t) => {
  const p = makePath();
  const mac = p.guest.dev.dev_addr;
  const frames = [frame(BR0, mac, 1), frame(BR0, mac, 2, 1400), frame(BR0, mac, 3, 18)];
  for (const f of frames) t.is(dev_queue_xmit(skbOn(p.guest.dev, f)), NET_XMIT_SUCCESS);
  settle(p);
  t.deepEqual(p.hostRx, frames);
  const v = p.vhost.stats;
  t.is(v.tx_packets, 3);
  t.is(v.tx_bytes, frames.reduce((n, f) => n + f.length, 0), 'the virtio_net_hdr stripped');
  t.is(p.backlog.enqueued, 3);
  t.is(p.host.tap_rx.to_bridge, 3);
  t.is(p.host.hostPort?.rx_packets, 3);
  t.is(p.host.bridge?.lookup([...mac].map((b) => b.toString(16).padStart(2, '0')).join(':')), 1, 'the bridge learned the guest on the tap port');
  t.is(p.r.driver.virtnet_get_stats().tx_packets, 3, 'the guest reclaimed its buffers');
  const c = p.host.conservation();
  t.true(c.balanced, JSON.stringify(c));
  t.is(c.from_tap, 3);
});

test('host -> guest: dev_queue_xmit on br0 arrives at the guest Net\'s handler byte-exact (bridge, tun_net_xmit, handle_rx, rx vq)', (t) => {
  const p = makePath();
  const mac = p.guest.dev.dev_addr;
  // The guest speaks first so the bridge knows where its MAC lives (else the frame is flooded, to the tap too).
  dev_queue_xmit(skbOn(p.guest.dev, frame(BR0, mac, 0)));
  settle(p);
  const frames = [frame(mac, BR0, 10), frame(mac, BR0, 11, 1000), frame(mac, BR0, 12, 1)];
  const br0 = p.host.hostPort!.dev;
  for (const f of frames) t.is(dev_queue_xmit(skbOn(br0, f)), NET_XMIT_SUCCESS);
  t.is(p.tap.xmit.tx_packets, 3, 'the bridge sent them to the tap');
  settle(p);
  t.deepEqual(p.guestRx, frames);
  t.is(p.vhost.stats.rx_packets, 3);
  t.is(p.guest.dev.stats.rx_packets, 3);
  const c = p.host.conservation();
  t.true(c.balanced, JSON.stringify(c));
  t.is(c.from_stack, 3);
  t.is(c.terms['tap_enqueued'], 3);
  t.is(c.terms['host_stack_delivered'], 1);
});

test('a round trip: the host stack answers what the guest sends, in the same host poll', (t) => {
  const p = makePath();
  const mac = p.guest.dev.dev_addr;
  const br0 = p.host.hostPort!.dev;
  dev_add_pack(p.hostNet, {
    type: 0x88b5,
    dev: null,
    func(skb) {
      const req = skb.head.slice(skb.mac_header, skb.tail);
      consume_skb(skb);
      const rep = req.slice();
      rep.set(req.subarray(6, 12), 0);
      rep.set(req.subarray(0, 6), 6);
      return dev_queue_xmit(skbOn(br0, rep));
    },
  });
  const echoed: Uint8Array[] = [];
  dev_add_pack(p.guest.net, { type: 0x88b5, dev: null, func(skb) { echoed.push(skb.head.slice(skb.mac_header, skb.tail)); consume_skb(skb); return 0; } });
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 50; i++) {
    const f = frame(BR0, mac, i, 100);
    f[12] = 0x88; f[13] = 0xb5;
    sent.push(f);
    dev_queue_xmit(skbOn(p.guest.dev, f));
    settle(p);
  }
  t.is(echoed.length, 50);
  for (let i = 0; i < 50; i++) {
    t.deepEqual(echoed[i]!.subarray(12), sent[i]!.subarray(12));
    t.deepEqual(echoed[i]!.subarray(0, 6), mac);
  }
  t.true(p.host.conservation().balanced);
});

test('the tap\'s Rx-path program sees the guest\'s frames before the host: XDP_DROP keeps them from the bridge', (t) => {
  const p = makePath();
  p.tap.rx.attach(new XdpProgramRunner(asmXdp('mov %r0, 1\nexit'), { engine: 'interp' }));
  const mac = p.guest.dev.dev_addr;
  for (let i = 0; i < 4; i++) dev_queue_xmit(skbOn(p.guest.dev, frame(BR0, mac, i)));
  settle(p);
  t.is(p.tap.rx.xdp_drop, 4);
  t.is(p.backlog.enqueued, 0);
  t.deepEqual(p.hostRx, []);
});

test('a guest flooding the host: its queue stops, the qdisc and the bounded backlog drop the excess (counted), nothing grows; every frame is accounted for', (t) => {
  const p = makePath({ queueSize: 64, backlogSlots: 128 });
  const mac = p.guest.dev.dev_addr;
  const dev = p.guest.dev;
  let offered = 0;
  // The host is busy elsewhere: vhost keeps taking the guest's frames, nobody drains the backlog.
  for (let round = 0; round < 20; round++) {
    for (let i = 0; i < 100; i++) { dev_queue_xmit(skbOn(dev, frame(BR0, mac, offered))); offered++; }
    p.vhost.handleTx();
    p.r.driver.virtnet_poll();
    net_tx_action(p.guest.net);
  }
  const s = p.r.driver.virtnet_get_stats();
  t.true(dev.stats.tx_dropped > 0, 'frames offered beyond txqueuelen while the queue was stopped were dropped');
  t.true(dev.qdisc.qlen <= dev.tx_queue_len, 'the qdisc holds at most txqueuelen');
  t.is(dev.stats.tx_packets + dev.stats.tx_dropped + dev.qdisc.qlen, offered);
  t.true(s.tx_queue_stops > 0);
  t.is(p.backlog.count(), 128, 'the backlog is full, and no larger');
  t.is(p.backlog.enqueued + p.backlog.dropped, p.vhost.stats.tx_packets);
  t.true(p.backlog.dropped > 0);
  // Now the host catches up.
  settle(p);
  t.is(p.hostRx.length, 128);
  // Every frame the guest's stack offered: dropped at the device, dropped at the backlog, delivered, on the ring, or on the qdisc.
  t.is(dev.stats.tx_dropped + p.backlog.dropped + p.hostRx.length + p.r.driver.sq.inflight + dev.qdisc.qlen, offered);
  t.true(p.host.conservation().balanced);
});

test('interrupt suppression: vhost signals the guest for tx completions only when it asked (stopped queue), rx per used_event', (t) => {
  const p = makePath({ queueSize: 64 });
  const mac = p.guest.dev.dev_addr;
  for (let i = 0; i < 10; i++) dev_queue_xmit(skbOn(p.guest.dev, frame(BR0, mac, i)));
  const before = p.vhost.stats.guest_interrupts;
  p.vhost.handleTx();
  t.is(p.vhost.stats.guest_interrupts - before, 0, 'tx interrupts are off while the queue runs');
  t.true(p.vhost.stats.guest_interrupts_suppressed > 0);
});

test('the host loop with a stack and a backlog: frames are taken off the backlog each round, the app polled, idle rounds sleep on the wake-up', (t) => {
  const p = makePath();
  const mac = p.guest.dev.dev_addr;
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  Atomics.store(ctl, HOST_CTL.GO, 1);
  const stack = new HostStack({ clock: new VirtualClock(), seed: 3 });
  let rounds = 0;
  stack.app = {
    poll: () => {
      rounds++;
      if (rounds === 3) {
        // The guest sends while the host runs: vhost queues on the backlog and rings the host.
        for (let i = 0; i < 5; i++) dev_queue_xmit(skbOn(p.guest.dev, frame(BR0, mac, i)));
        p.vhost.handleTx();
      }
      if (rounds === 10) Atomics.store(ctl, HOST_CTL.STOP, 1);
      return 0;
    },
  };
  const wait = SockWait.create();
  p.backlog.wait = wait;
  const loop = new HostLoop(p.host, ctl, 64, { stack, wait, maxSleepMs: 1 });
  loop.run();
  t.is(p.hostRx.length, 5);
  t.is(loop.stats.backlog_frames, 5);
  t.true(loop.stats.idle_sleeps > 0);
  const c = loop.counters();
  t.is(c['tap_rx_packets'], 5);
  t.is(c['br0_rx_packets'], 5);
  t.is(c['hostbl_processed'], 5);
});

test('the bridge passes br0 group frames and frames for its address, not unknown unicast (br0 is not promiscuous)', (t) => {
  const p = makePath();
  const mac = p.guest.dev.dev_addr;
  const stranger = parseMac('02:00:00:00:99:99');
  const bcast = new Uint8Array(6).fill(0xff);
  const frames = [frame(stranger, mac, 1), frame(bcast, mac, 2), frame(BR0, mac, 3)];
  for (const f of frames) dev_queue_xmit(skbOn(p.guest.dev, f));
  settle(p);
  t.deepEqual(p.hostRx, [frames[1]!, frames[2]!], 'the broadcast and the frame for br0');
  const b = p.host.bridge!.stats();
  t.is(b.flooded, 2);
  t.is(b.flood_copies, 1, 'the broadcast went to the NIC and br0; the unknown unicast to the NIC only');
  t.is(p.host.nic.tx_packets, 2);
  t.true(p.host.conservation().balanced);
});
