// The tap's producer side: tun_net_xmit (one packet, one wake attempt) and tun_xdp_xmit (a bulk,
// one wake), full-ring drops, and the VHOST_WORK_QUEUED coalescing of wake-ups.
import test from 'ava';
import { SockWait, TunError, XDP_XMIT } from '../../tun/index.ts';
import { udp64 } from '../support/packets.ts';
import { frameOf, tapFixture } from './tap-fixture.ts';

test('tun_net_xmit: queued and published one by one; a full ring drops and frees; wake-ups coalesce until vhost clears the flag', (t) => {
  const f = tapFixture({ frames: 16, ring: 4 });
  const hs = Array.from({ length: 6 }, () => frameOf(f, udp64()));
  const results = hs.map((h) => f.xmit.tun_net_xmit(h));
  t.deepEqual(results, [true, true, true, true, false, false]);
  t.is(f.xmit.tx_packets, 4);
  t.is(f.xmit.tx_bytes, 4 * 60);
  t.is(f.xmit.tx_dropped, 2);
  t.is(f.xmit.drop_full_ring, 2);
  t.is(f.xmit.ring.publishes, 4, 'each packet published on its own');
  t.is(f.pool.available, 16 - 4, 'dropped frames went back to the pool');
  t.is(f.xmit.queued(), 4);
  // The first packet queued the vhost work; the next three found it queued.
  t.is(f.wait.wakeups, 1);
  t.is(f.wait.wakeups_coalesced, 3);
  t.is(f.wait.count(), 1);
  // vhost starts a round: clears the flag, takes the packets; the next packet wakes again.
  f.wait.clearQueued();
  const out = new Uint32Array(64);
  t.is(f.recv.tun_recvmsg(out), 4);
  t.deepEqual([...out.subarray(0, 4)], hs.slice(0, 4));
  t.true(f.xmit.tun_net_xmit(frameOf(f, udp64())));
  t.is(f.wait.wakeups, 2);
  t.is(f.wait.count(), 2);
  t.deepEqual(f.xmit.stats(), {
    tx_packets: 5, tx_bytes: 300, tx_dropped: 2, drop_full_ring: 2, drop_no_queue: 0, net_xmit_calls: 7, xdp_xmit_calls: 0, xdp_xmit_frames: 0,
    wakeups: 2, wakeups_coalesced: 3, wakeups_notified: 0, notify_us: 0,
  });
});

test('tun_xdp_xmit: a bulk is published at once; vhost is woken only on XDP_XMIT_FLUSH; frames past a full ring are dropped and freed', (t) => {
  const f = tapFixture({ frames: 64, ring: 8 });
  const bulk = new Uint32Array(16);
  for (let i = 0; i < 16; i++) bulk[i] = frameOf(f, udp64({ seq: i }));
  // A bulk sent mid-poll (the devmap's queue was full): published, no wake-up.
  t.is(f.xmit.tun_xdp_xmit(bulk, 16, 0), 8);
  t.is(f.xmit.ring.publishes, 1);
  t.is(f.wait.wakeups + f.wait.wakeups_coalesced, 0);
  t.is(f.xmit.tx_packets, 8);
  t.is(f.xmit.tx_dropped, 8);
  t.is(f.pool.available, 64 - 8);
  // The poll's last bulk finds the ring full: it queues nothing and publishes nothing, but its
  // flush still wakes vhost for the 8 queued before.
  for (let i = 0; i < 4; i++) bulk[i] = frameOf(f, udp64());
  t.is(f.xmit.tun_xdp_xmit(bulk, 4, XDP_XMIT.XDP_XMIT_FLUSH), 0);
  t.is(f.xmit.ring.publishes, 1);
  t.is(f.wait.wakeups, 1);
  t.is(f.xmit.tx_dropped, 12);
  // The consumer sees the first 8, in order.
  const out = new Uint32Array(64);
  t.is(f.recv.tun_recvmsg(out), 8);
  t.deepEqual(f.fp.read(out[0]!), udp64({ seq: 0 }));
  t.deepEqual(f.fp.read(out[7]!), udp64({ seq: 7 }));
  t.is(f.xmit.xdp_xmit_calls, 2);
  t.is(f.xmit.xdp_xmit_frames, 20);
});

test('SockWait: the wake counter is shared with other ringers; wait returns at once after a wake', (t) => {
  const cells = new Int32Array(new SharedArrayBuffer(16));
  const w = new SockWait({ cells, wakeIndex: 1, queuedIndex: 2, sleepingIndex: 3 });
  const armed = w.arm();
  // The guest's kick rings the same counter without the flag (virtio Doorbell protocol).
  Atomics.add(cells, 1, 1);
  t.is(w.wait(armed, 1000), 'not-equal');
  t.true(w.wake());
  t.false(w.wake());
  t.true(w.queued());
  t.is(w.count(), 2);
  t.is(cells[0], 0, 'cells outside the three indices are untouched');
  // Nobody sleeps: the wake queued the work and bumped the counter but needed no notify.
  t.is(w.wakeups_notified, 0);
  t.is(cells[3], 0, 'the sleeping flag is down outside wait()');
  t.is(w.wait(w.arm(), 1), 'timed-out');
  t.is(w.sleeps, 1);
  // waitForWork clears the flag, then finds the work through the re-check.
  t.true(w.waitForWork(() => true));
  t.false(w.queued());
  t.false(w.waitForWork(() => false, 1));
  const bad = (s: unknown): string | undefined => {
    try { new SockWait(s as never); } catch (e) { return e instanceof TunError ? e.code : 'other'; }
    return undefined;
  };
  t.is(bad({ cells: new Int32Array(4), wakeIndex: 0, queuedIndex: 1, sleepingIndex: 2 }), 'EINVAL', 'not shared');
  t.is(bad({ cells, wakeIndex: 0, queuedIndex: 0, sleepingIndex: 2 }), 'EINVAL');
  t.is(bad({ cells, wakeIndex: 0, queuedIndex: 1, sleepingIndex: 1 }), 'EINVAL');
  t.is(bad({ cells, wakeIndex: 0, queuedIndex: 4, sleepingIndex: 2 }), 'EINVAL');
  t.is(bad(undefined), 'EINVAL');
});
