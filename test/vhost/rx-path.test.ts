// handle_rx on both of vhost/rx-path.ts' paths, in one thread: the tap's ring filled by tun's
// producers (skbs through tun_net_xmit, xdp_frames through tun_xdp_xmit), vhost_net moving them
// into the guest's rx virtqueue, the real guest driver receiving them. Every frame arrives once,
// byte-exact, in order, and is counted the same way on both paths; only who reads the ring differs.
import test from 'ava';
import { NET_SKB_PAD, XDP_XMIT, build_skb } from '../../tun/index.ts';
import { TunSocket } from '../../vhost/tun-socket.ts';
import { VhostNet } from '../../vhost/vhost-net.ts';
import { VHOST_RX_PATH_CODE, VHOST_RX_PATHS, vhostRxPathOf, type VhostRxPath } from '../../vhost/rx-path.ts';
import { udp4Frame } from '../support/packets.ts';
import { makeRig } from '../guest/rig.ts';
import { frameOf, tapFixture, type TapFixture } from '../tun/tap-fixture.ts';

function frame(seq: number, size: number): Uint8Array {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (seq * 13 + i) & 0xff;
  return udp4Frame({ payload });
}

/** Half the burst as xdp_frames (tun_xdp_xmit, one flush), half as skbs (tun_net_xmit, one at a time). */
function produce(f: TapFixture, frames: readonly Uint8Array[]): void {
  const half = frames.length >>> 1;
  const hs = new Uint32Array(frames.slice(0, half).map((b) => frameOf(f, b)));
  if (half > 0) f.xmit.tun_xdp_xmit(hs, half, XDP_XMIT.XDP_XMIT_FLUSH);
  for (const b of frames.slice(half)) {
    const h = f.pool.alloc();
    if (h < 0) throw new Error('pool empty');
    f.fp.u8.set(b, h * f.fp.frameSize + NET_SKB_PAD);
    build_skb(f.fp, h, NET_SKB_PAD, b.length);
    f.xmit.tun_net_xmit(h);
  }
}

function rig(rxPath: VhostRxPath) {
  // A 64-entry rx queue: a 300-frame burst outruns the guest's buffers before the weight (256) is spent.
  const r = makeRig({ driver: { queueSize: 64 } });
  const tap = tapFixture({ frames: 512 });
  const sock = new TunSocket(tap.recv, tap.rx, tap.rx.pool, tap.remote);
  const vhost = new VhostNet(r.mem, r.started, sock, () => { r.irqs.n++; }, { rxPath });
  return { r, tap, vhost };
}

for (const path of VHOST_RX_PATHS) {
  test(`${path}: every frame reaches the guest once, byte-exact, in order, counted (bursts larger than the guest's buffers)`, (t) => {
    const { r, tap, vhost } = rig(path);
    t.is(vhost.stats.rx_path, VHOST_RX_PATH_CODE[path]);
    t.is(vhostRxPathOf(vhost.stats.rx_path), path);
    const sent: Uint8Array[] = [];
    let seq = 0;
    // Sizes of the suite's rows: 18 and 1472-byte UDP payloads, a TCP_RR-sized one.
    for (const [burst, size] of [[300, 18], [100, 1472], [400, 1], [64, 18], [1, 1472]] as const) {
      const frames = Array.from({ length: burst }, () => frame(seq++, size));
      produce(tap, frames);
      sent.push(...frames);
      // The guest refills its buffers only as it polls: handle_rx runs out of them mid-burst.
      for (let i = 0; i < 1000; i++) {
        const moved = vhost.handleRx();
        let polled = 0;
        while (r.driver.virtnet_poll() === 'more') polled++;
        if (moved === 0 && r.driver.lastWork === 0 && polled === 0 && !vhost.hasWork()) break;
      }
    }
    t.is(r.delivered.length, sent.length);
    t.true(r.delivered.every((d, i) => d.length === sent[i]!.length && d.every((b, j) => b === sent[i]![j])), 'byte-exact, in order');
    const s = vhost.stats;
    const bytes = sent.reduce((n, f) => n + f.length, 0);
    t.is(s.rx_packets, sent.length);
    t.is(s.rx_bytes, bytes);
    t.is(s.rx_too_big, 0);
    t.true(s.rx_no_buffer > 0, 'the bursts outran the guest\'s buffers at least once');
    t.is(vhost.rxHeld, 0);
    t.is(tap.recv.tx_packets, sent.length, 'the tap counts what it put to user on both paths');
    t.is(tap.recv.tx_bytes, bytes);
    t.is(tap.recv.queued(), 0);
    if (path === 'ptr_ring') {
      t.is(tap.recv.read_ptr, sent.length, 'one tun_do_read per frame, the pointer handed back');
      t.is(s.rx_recvmsg, sent.length);
      t.is(tap.recv.batches, 0, 'vhost consumed the ring itself: the tap\'s batch recvmsg never ran');
    } else {
      t.is(tap.recv.read_ptr, 0);
      t.is(tap.recv.consumed, sent.length);
      t.true(s.rx_recvmsg < sent.length / 4, 'one recvmsg per batch of up to 64');
    }
    tap.pool.refill();
    t.is(tap.pool.accounting().inFlight, 0, 'every frame back in the pool');
  });
}
