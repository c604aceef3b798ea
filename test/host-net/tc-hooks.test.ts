// tc on the host's own devices (host/net/tc.ts): clsact hooks on the NIC and the tap with pktgen's
// traffic through HostNet, on both engines: SHOT at the NIC's ingress with the ledger balanced,
// several programs in prio order and the mark they leave for a later hook, a rewrite at the tap's
// egress that the guest-bound frame carries, redirects between devices (egress, ingress, nowhere,
// too deep), and the refusals.
import test from 'ava';
import { drainTap, hostWithTc } from './tc-fixture.ts';
import { dropUdpPort, ENGINES, redirect, requireMark, ret, setMark, tcProg } from '../net/cls-bpf-progs.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';

const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;
const TC_ACT_STOLEN = 4;
const BPF_F_INGRESS = 1;
const NIC = 2, TAP = 3;

/** Sum of 16-bit words of an IPv4 header: 0xffff when its checksum is right. */
function ipv4HeaderSum(frame: Uint8Array): number {
  let s = 0;
  for (let i = 14; i < 34; i += 2) s += (frame[i]! << 8) | frame[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** tc: decrements the IPv4 TTL in place and fixes the header checksum with bpf_l3_csum_replace. */
const decTtl = `
mov %r6, %r1
ldxw %r2, [%r6+76]
ldxw %r3, [%r6+80]
mov %r4, %r2
add %r4, 34
jgt %r4, %r3, out
ldxh %r7, [%r2+22]
mov %r8, %r7
sub %r8, 1
stxh [%r2+22], %r8
mov %r1, %r6
mov %r2, 24
mov %r3, %r7
mov %r4, %r8
mov %r5, 2
call 10
out:
mov %r0, 0
exit`;

for (const engine of ENGINES) {
  test(`${engine}: SHOT at the NIC's ingress drops pktgen's frames before the bridge; the ledger balances`, (t) => {
    const { host, tc } = hostWithTc();
    tc.attach('nic', 'ingress', tcProg(dropUdpPort(9, TC_ACT_OK), 'drop_discard'), { engine });
    for (let i = 0; i < 5; i++) host.poll();
    const c = host.conservation();
    t.is(c.generated, 320);
    t.is(c.terms.tc_shot, 320);
    t.is(c.terms.tap_enqueued, 0);
    t.true(c.balanced, JSON.stringify(c));
    t.is(host.stats().bridge!.rx_packets, 0, 'nothing reached the bridge');
    t.is(host.stats().pool.inFlight, 0, 'every dropped skb went back to the pool');
    const [r] = tc.report();
    t.like(r, { dev: 'eth0', ifindex: NIC, direction: 'ingress', packets: 320, shot: 320, stolen: 0, redirect: 0, faults: 0 });
    t.is(r!.filters.length, 1);
    t.like(r!.filters[0], { prog: 'drop_discard', runs: 320, shot: 320, engine });
    t.is(host.stats().tc!['eth0_ingress_shot'], 320);
  });

  test(`${engine}: programs run in prio order; the mark set at the NIC's ingress is seen at the tap's egress`, (t) => {
    const { f, host, tc } = hostWithTc();
    // prio 20 would drop everything, but prio 10 answers first (OK) for the marked frames.
    tc.attach('nic', 'ingress', tcProg(ret(TC_ACT_SHOT), 'shot_all'), { engine, prio: 20 });
    tc.attach('nic', 'ingress', tcProg(setMark(7, TC_ACT_OK), 'mark7'), { engine, prio: 10 });
    tc.attach('br-port-tap', 'egress', tcProg(requireMark(7), 'need7'), { engine });
    for (let i = 0; i < 3; i++) host.poll();
    const c = host.conservation();
    t.is(c.terms.tap_enqueued, 192);
    t.is(c.terms.tc_shot, 0);
    t.true(c.balanced, JSON.stringify(c));
    t.is(drainTap(f).length, 192);
    const rep = tc.report();
    t.deepEqual(rep.map((r) => [r.dev, r.direction, r.packets, r.shot]), [['eth0', 'ingress', 192, 0], ['tap0', 'egress', 192, 0]]);
    t.deepEqual(rep[0]!.filters.map((x) => [x.prio, x.prog, x.runs]), [[10, 'mark7', 192], [20, 'shot_all', 0]]);
  });

  test(`${engine}: a mark the tap's egress does not expect drops there (tc_shot), after the bridge`, (t) => {
    const { host, tc } = hostWithTc();
    tc.attach('tap', 'egress', tcProg(requireMark(8), 'need8'), { engine });
    for (let i = 0; i < 2; i++) host.poll();
    const c = host.conservation();
    t.is(c.terms.tc_shot, 128);
    t.is(host.stats().bridge!.forwarded + host.stats().bridge!.flooded, 128);
    t.true(c.balanced, JSON.stringify(c));
  });

  test(`${engine}: the tap's egress rewrites the TTL (checksum fixed by bpf_l3_csum_replace); the guest-bound frame shows it`, (t) => {
    const { f, host, tc } = hostWithTc();
    tc.attach('br-port-tap', 'egress', tcProg(decTtl, 'dec_ttl'), { engine });
    host.poll();
    const frames = drainTap(f);
    t.is(frames.length, 64);
    for (const fr of frames) {
      t.is(fr[22], 31, 'pktgen sends TTL 32');
      t.is(ipv4HeaderSum(fr), 0xffff, 'the header checksum is right');
    }
    t.true(host.conservation().balanced);
  });

  test(`${engine}: bpf_skb_change_tail grows a frame inside its pool frame (zero-filled), and past it fails with -ENOMEM`, (t) => {
    const { f, host, tc } = hostWithTc();
    const grow = (by: number): string => `mov %r6, %r1\nldxw %r2, [%r6+0]\nadd %r2, ${by}\nmov %r3, 0\ncall 38\nmov %r1, 0\njeq %r0, -12, enomem\nexit\nenomem:\nmov %r0, 2\nexit`;
    tc.attach('tap', 'egress', tcProg(grow(6), 'grow6'), { engine });
    host.poll();
    const frames = drainTap(f);
    t.is(frames.length, 64);
    t.is(frames[0]!.length, 66, 'pktgen sends 60 bytes');
    t.deepEqual([...frames[0]!.subarray(60)], [0, 0, 0, 0, 0, 0]);
    tc.detach('tap', 'egress');
    tc.attach('tap', 'egress', tcProg(grow(4000), 'grow4000'), { engine });
    host.poll();
    t.is(host.conservation().terms.tc_shot, 64, '-ENOMEM: the frame cannot be reallocated');
    t.true(host.conservation().balanced);
  });

  test(`${engine}: redirect from the NIC's ingress to the tap's transmit path skips the bridge and runs the tap's egress hook`, (t) => {
    const { f, host, tc } = hostWithTc();
    tc.attach('nic', 'ingress', tcProg(redirect(TAP, 0), 'to_tap'), { engine });
    tc.attach('tap', 'egress', tcProg(ret(TC_ACT_OK), 'count'), { engine });
    for (let i = 0; i < 2; i++) host.poll();
    const c = host.conservation();
    t.is(c.terms.tap_enqueued, 128);
    t.true(c.balanced, JSON.stringify(c));
    t.is(host.stats().bridge!.rx_packets, 0);
    const frames = drainTap(f);
    t.is(frames.length, 128);
    t.deepEqual([...frames[0]!.subarray(0, 6)], [2, 0, 0, 0, 0, 2], 'the frame from its MAC header on');
    const rep = tc.report();
    t.like(rep[0], { dev: 'eth0', direction: 'ingress', redirect: 128, redirect_err: 0 });
    t.like(rep[1], { dev: 'tap0', direction: 'egress', packets: 128 });
  });

  test(`${engine}: redirect with BPF_F_INGRESS into the tap's receive path enters the bridge on the tap's port`, (t) => {
    const { host, tc } = hostWithTc();
    tc.attach('nic', 'ingress', tcProg(redirect(TAP, BPF_F_INGRESS), 'into_tap'), { engine });
    tc.attach('tap', 'ingress', tcProg(ret(TC_ACT_OK), 'seen'), { engine });
    host.poll();
    const c = host.conservation();
    const s = host.stats();
    t.is(s.bridge!.rx_packets, 64);
    // Unknown unicast from the tap's port floods to the NIC's: it leaves on the wire.
    t.is(c.terms.nic_wire_tx, 64);
    t.is(c.terms.tap_enqueued, 0);
    t.true(c.balanced, JSON.stringify(c));
    t.like(tc.report().find((r) => r.dev === 'tap0'), { direction: 'ingress', packets: 64 });
  });

  test(`${engine}: redirects to no device, and loops past the recursion limit, drop as tc_redirect_err`, (t) => {
    const { host, tc } = hostWithTc();
    tc.attach('nic', 'ingress', tcProg(redirect(99, 0), 'nowhere'), { engine });
    host.poll();
    let c = host.conservation();
    t.is(c.terms.tc_redirect_err, 64);
    t.true(c.balanced, JSON.stringify(c));
    t.is(tc.detach('nic', 'ingress'), 0);
    // The tap's egress sends every frame back to the tap's egress: XMIT_RECURSION_LIMIT ends it.
    tc.attach('nic', 'ingress', tcProg(redirect(TAP, 0), 'to_tap'), { engine });
    tc.attach('tap', 'egress', tcProg(redirect(TAP, 0), 'loop'), { engine });
    host.poll();
    c = host.conservation();
    t.is(c.terms.tc_redirect_err, 128);
    t.is(c.terms.tap_enqueued, 0);
    t.true(c.balanced, JSON.stringify(c));
    t.like(tc.report().find((r) => r.dev === 'tap0'), { packets: 64 * 8, redirect: 64 * 8, redirect_err: 64 });
    t.is(host.stats().pool.inFlight, 0);
  });

  test(`${engine}: STOLEN consumes at the NIC's ingress, and a faulting (unverified) program drops`, (t) => {
    const { host, tc } = hostWithTc();
    tc.attach('nic', 'ingress', tcProg(ret(TC_ACT_STOLEN), 'steal'), { engine });
    host.poll();
    let c = host.conservation();
    t.is(c.terms.tc_stolen, 64);
    t.true(c.balanced, JSON.stringify(c));
    tc.detach('nic', 'ingress');
    // Unverified: a load past the context faults at run time; the skb is dropped, nothing throws.
    tc.attach('nic', 'ingress', tcProg('ldxw %r0, [%r1+4000]\nexit', 'fault'), { engine: 'interp', verify: false });
    t.notThrows(() => host.poll());
    c = host.conservation();
    t.is(c.terms.tc_shot, 64);
    t.true(c.balanced, JSON.stringify(c));
    t.like(tc.report()[0]!.filters[0], { prog: 'fault', faults: 64, shot: 64 });
  });
}

test('bad programs and devices are refused with errno codes', (t) => {
  const { tc } = hostWithTc();
  const xdp = { ...tcProg(ret(2), 'xdp_prog'), section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP };
  t.throws(() => tc.attach('nic', 'ingress', xdp), { code: 'EINVAL', message: /SCHED_CLS/ });
  t.throws(() => tc.attach('wlan0', 'ingress', tcProg(ret(0))), { code: 'ENOENT' });
  t.throws(() => tc.attach('br0', 'ingress', tcProg(ret(0))), { code: 'ENOENT', message: /host stack/ });
  t.throws(() => tc.attach('nic', 'sideways' as never, tcProg(ret(0))), { code: 'EINVAL' });
  tc.attach('nic', 'ingress', tcProg(ret(0)), { prio: 5, handle: 1 });
  t.throws(() => tc.attach('nic', 'ingress', tcProg(ret(0)), { prio: 5, handle: 1 }), { code: 'EEXIST' });
  // A program the verifier refuses is refused at attach (BPF_PROG_LOAD's error).
  t.throws(() => tc.attach('nic', 'egress', tcProg('ldxw %r0, [%r1+4000]\nexit')));
});
