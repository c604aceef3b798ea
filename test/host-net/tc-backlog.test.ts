// BPF_F_INGRESS redirects on the host queue as netif_rx does (host/net/netif-rx.ts, tc.ts): the
// backlog's bound (netdev_max_backlog + 1 in input_pkt_queue, process_queue apart), its quota and
// order; through HostNet on both engines: redirected frames are received after the NAPI poll that
// queued them, in the order queued; a full backlog drops and counts; a program that redirects
// every frame back into its own device's receive path loops through the backlog instead of
// recursing; the host stack's transmit is not re-entered by a redirect of its own frame (what the
// syncookie suite's SYN proxy at the tap's egress does to the host's SYN).
import test from 'ava';
import { dev_add_pack, dev_queue_xmit } from '../../net/core/dev.ts';
import { BootState } from '../../net/core/boot-state.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { netdev_alloc_skb, PACKET_OUTGOING, skb_put, ETH_P_ALL } from '../../net/core/skbuff.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { BR0_DEFAULT_MAC, HostNet } from '../../host/net/index.ts';
import { HostSoftnetBacklog } from '../../host/net/netif-rx.ts';
import { HostTc } from '../../host/net/tc.ts';
import { udp4Frame } from '../support/packets.ts';
import { drainTap, hostWithTc } from './tc-fixture.ts';
import { tapFixture } from '../tun/tap-fixture.ts';
import { ENGINES, redirect, tcProg } from '../net/cls-bpf-progs.ts';

const BPF_F_INGRESS = 1;
const NIC = 2, TAP = 3;
const GUEST_MAC = '52:54:00:12:34:56';

test('enqueue_to_backlog: input_pkt_queue takes netdev_max_backlog + 1, then drops and counts', (t) => {
  const bl = new HostSoftnetBacklog(4);
  const took = [10, 11, 12, 13, 14, 15, 16].map((h) => bl.enqueue_to_backlog(h, 2));
  t.deepEqual(took, [true, true, true, true, true, false, false]);
  t.like(bl.counters(), { enqueued: 5, dropped: 2, queued: 5, processed: 0 });
  t.throws(() => new HostSoftnetBacklog(-1), { code: 'EINVAL' });
});

test('process_backlog: quota, order, and what is queued meanwhile waits for the splice', (t) => {
  const bl = new HostSoftnetBacklog(4);
  for (const h of [1, 2, 3]) bl.enqueue_to_backlog(h, 7);
  const seen: number[] = [];
  // Each skb received queues another (h + 100): they join input_pkt_queue, behind process_queue.
  const requeue = (h: number, ifindex: number): void => {
    t.is(ifindex, 7);
    seen.push(h);
    if (h < 100) bl.enqueue_to_backlog(h + 100, ifindex);
  };
  t.is(bl.process_backlog(2, requeue), 2);
  t.deepEqual(seen, [1, 2]);
  // process_queue holds 3; input_pkt_queue 101, 102. Only input_pkt_queue counts against the bound.
  t.is(bl.qlen, 2);
  t.is(bl.queued, 3);
  t.is(bl.process_backlog(64, requeue), 4);
  t.deepEqual(seen, [1, 2, 3, 101, 102, 103]);
  t.is(bl.process_backlog(64, requeue), 0, 'empty: the NAPI instance completes');
  t.like(bl.counters(), { enqueued: 6, processed: 6, queued: 0, dropped: 0, polls: 2 });
});

test('while process_queue is full, input_pkt_queue still takes netdev_max_backlog + 1', (t) => {
  const bl = new HostSoftnetBacklog(2);
  for (const h of [1, 2, 3]) t.true(bl.enqueue_to_backlog(h, 2));
  let extra = 0;
  // The first receive queues 4 more: three fit (qlen 0, 1, 2 <= 2), the fourth is dropped.
  bl.process_backlog(1, () => {
    for (let i = 0; i < 4; i++) if (bl.enqueue_to_backlog(50 + i, 2)) extra++;
  });
  t.is(extra, 3);
  t.like(bl.counters(), { enqueued: 6, processed: 1, dropped: 1, queued: 5 });
});

/** pktgen's sequence number (pktgen_hdr.seq_num, bytes 46..49) and UDP source port of a frame. */
const seqOf = (fr: Uint8Array): number => new DataView(fr.buffer, fr.byteOffset).getUint32(46);
const sportOf = (fr: Uint8Array): number => (fr[34]! << 8) | fr[35]!;

/**
 * tc: a frame not yet marked goes back into `ifindex`'s receive path (marked 1, which
 * skb_scrub_packet keeps within the netns), if its UDP source port is odd (`oddOnly`) or always;
 * everything else goes on (TC_ACT_OK).
 */
function bounceOnce(ifindex: number, oddOnly: boolean): string {
  return `
mov %r6, %r1
ldxw %r2, [%r6+8]
jne %r2, 0, pass
ldxw %r2, [%r6+76]
ldxw %r3, [%r6+80]
mov %r4, %r2
add %r4, 36
jgt %r4, %r3, pass
ldxb %r5, [%r2+35]
and %r5, 1
${oddOnly ? 'jeq %r5, 0, pass' : ''}
mov32 %r2, 1
stxw [%r6+8], %r2
mov %r1, ${ifindex}
mov %r2, ${BPF_F_INGRESS}
call 23
exit
pass:
mov %r0, 0
exit`;
}

/** tc: swaps the Ethernet addresses and redirects into `ifindex`'s receive path (a reply from where it was going). */
function reflect(ifindex: number): string {
  return `
ldxw %r2, [%r1+76]
ldxw %r3, [%r1+80]
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, drop
ldxw %r4, [%r2+0]
ldxh %r5, [%r2+4]
ldxw %r7, [%r2+6]
ldxh %r8, [%r2+10]
stxw [%r2+0], %r7
stxh [%r2+4], %r8
stxw [%r2+6], %r4
stxh [%r2+10], %r5
mov %r1, ${ifindex}
mov %r2, ${BPF_F_INGRESS}
call 23
exit
drop:
mov %r0, 2
exit`;
}

for (const engine of ENGINES) {
  test(`${engine}: frames redirected into the NIC's receive path are received after the poll that queued them, in order`, (t) => {
    const { f, host, tc } = hostWithTc();
    tc.attach('nic', 'ingress', tcProg(bounceOnce(NIC, true), 'bounce_odd'), { engine });
    t.is(host.poll(), 64 + 32, '64 off the wire, 32 out of the backlog');
    const frames = drainTap(f);
    t.is(frames.length, 64);
    const even = frames.slice(0, 32), odd = frames.slice(32);
    t.true(even.every((fr) => sportOf(fr) % 2 === 0), 'the frames that went straight on come first');
    t.true(odd.every((fr) => sportOf(fr) % 2 === 1), 'then the redirected ones, from the backlog');
    const ascending = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
    t.true(ascending(even.map(seqOf)));
    t.true(ascending(odd.map(seqOf)), 'in the order they were queued');
    const c = host.conservation();
    t.is(c.terms.tap_enqueued, 64);
    t.is(c.terms.tc_backlog_queued, 0);
    t.true(c.balanced, JSON.stringify(c));
    t.like(host.stats().tc, { backlog_enqueued: 32, backlog_processed: 32, backlog_dropped: 0, backlog_queued: 0, backlog_polls: 1 });
    t.like(tc.report()[0], { dev: 'eth0', direction: 'ingress', packets: 96, redirect: 32, redirect_err: 0 });
  });

  test(`${engine}: a full backlog drops BPF_F_INGRESS redirects and counts them (tc_backlog_dropped); the ledger balances`, (t) => {
    const { f, host, tc } = hostWithTc({ maxBacklog: 16 });
    tc.attach('nic', 'ingress', tcProg(bounceOnce(NIC, false), 'bounce_all'), { engine });
    host.poll();
    const c = host.conservation();
    t.is(c.generated, 64);
    t.is(c.terms.tc_backlog_dropped, 64 - 17, 'input_pkt_queue holds netdev_max_backlog + 1');
    t.is(c.terms.tap_enqueued, 17);
    t.is(c.terms.tc_redirect_err, 0, 'a backlog drop is not a redirect error');
    t.true(c.balanced, JSON.stringify(c));
    t.is(drainTap(f).length, 17);
    t.is(host.stats().pool.inFlight, 0);
  });

  test(`${engine}: a program redirecting every frame into its own device's receive path loops through the backlog, never recursing`, (t) => {
    const { host, tc } = hostWithTc({ maxBacklog: 100 });
    tc.attach('nic', 'ingress', tcProg(redirect(NIC, BPF_F_INGRESS), 'loop'), { engine });
    host.poll();
    // One pass each: 64 from the wire, then the backlog's quota (64), each frame queued again.
    t.like(tc.report()[0], { packets: 128, redirect: 128, redirect_err: 0 });
    for (let i = 0; i < 9; i++) t.notThrows(() => host.poll());
    const c = host.conservation();
    const bl = tc.backlog;
    t.is(c.terms.tc_redirect_err, 0, 'no recursion limit reached: nothing nests');
    t.is(bl.processed, 640, 'the quota per poll');
    t.is(bl.enqueued - bl.processed, bl.queued);
    t.true(bl.dropped > 0, 'the wire outruns a backlog that never empties: the bound holds');
    t.true(bl.queued <= 2 * 101);
    t.is(c.terms.tc_backlog_queued, bl.queued);
    t.is(host.stats().tc!['backlog_queued'], bl.queued);
    t.is(host.stats().pool.inFlight, bl.queued, 'the queued skbs are the frames in flight');
    t.true(c.balanced, JSON.stringify(c));
    t.like(tc.report()[0], { packets: 640 + 640, redirect: 1280 });
  });

  test(`${engine}: the host stack's own frame, reflected at the tap's egress into the tap's receive path, comes back after its transmit returned`, (t) => {
    const f = tapFixture({ frames: 256 });
    const stack = new Net(new BootState({ clock: new VirtualClock(), seed: 3 }));
    const host = new HostNet({ case: 'bridge', pool: f.pool, tap: f.xmit, stack, wire: false });
    const tc = new HostTc(f.pool);
    host.enableTc(tc);
    tc.attach('tap', 'egress', tcProg(reflect(TAP), 'reflect'), { engine });
    const br0 = host.hostPort!.dev;
    const seen: string[] = [];
    dev_add_pack(stack, { type: ETH_P_ALL, dev: br0, func: (skb) => { seen.push(skb.pkt_type === PACKET_OUTGOING ? 'sent' : 'received'); return 0; } });
    const fr = udp4Frame({ eth: { src: BR0_DEFAULT_MAC, dst: GUEST_MAC }, udp: { dstPort: 7 }, payload: new Uint8Array(18) });
    const skb = netdev_alloc_skb(br0, fr.length);
    skb.head.set(fr, skb_put(skb, fr.length));
    dev_queue_xmit(skb);
    t.deepEqual(seen, ['sent'], 'nothing received while the stack transmits');
    t.is(tc.backlog.queued, 1);
    t.true(host.rxPending(), 'a loop about to sleep sees the queued reply');
    t.is(host.poll(), 1);
    t.false(host.rxPending());
    t.deepEqual(seen, ['sent', 'received']);
    const c = host.conservation();
    t.is(c.from_stack, 1);
    t.is(c.terms.host_stack_delivered, 1, 'the bridge took the reply to br0 by its address');
    t.is(c.terms.nic_wire_tx, 1, 'the flood\'s other copy left on the wire');
    t.true(c.balanced, JSON.stringify(c));
  });
}
