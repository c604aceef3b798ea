// tc on the host's other paths, both engines: the tap's ingress on frames the guest sent (the
// host backlog into the bridge), a redirect from there to the NIC's transmit path, br0's hooks
// (net's device: its filters run in the host stack), and programs attached from a compiled object
// by section with map entries (HostTcAttachments, what the host worker uses).
import test from 'ava';
import { BootState } from '../../net/core/boot-state.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { BR0_DEFAULT_MAC, HostNet } from '../../host/net/index.ts';
import { HostTc } from '../../host/net/tc.ts';
import { HostTcAttachments } from '../../host/net/tc-attach.ts';
import { MAX_TAP_BATCH, SoftnetBacklog } from '../../tun/index.ts';
import { udp4Frame } from '../support/packets.ts';
import { XDP_DIR } from '../support/vm.ts';
import { tapFixture, type TapFixture } from '../tun/tap-fixture.ts';
import { dropUdpPort, ENGINES, redirect, ret, tcProg } from '../net/cls-bpf-progs.ts';

const OBJ = new URL('./tc-fixtures/host_tc.o', import.meta.url).pathname;
const TC_ACT_OK = 0;
const GUEST_MAC = '52:54:00:12:34:56';
const NIC = 2;

function guestPath(): { f: TapFixture; host: HostNet; tc: HostTc; b: SoftnetBacklog } {
  const f = tapFixture({ frames: 512 });
  const b = SoftnetBacklog.create(256);
  const host = new HostNet({ case: 'bridge', pool: f.pool, tap: f.xmit, wire: false, backlog: b });
  const tc = new HostTc(f.pool);
  host.enableTc(tc);
  return { f, host, tc, b };
}

/** `n` UDP frames from the guest to dstPort 7 and 9 in turn, through the backlog into the tap's receive path. */
function fromGuest(host: HostNet, b: SoftnetBacklog, n: number): void {
  for (let i = 0; i < n; i++) {
    const fr = udp4Frame({ eth: { src: GUEST_MAC, dst: '02:00:00:00:00:99' }, udp: { dstPort: i % 2 === 0 ? 7 : 9 }, payload: new Uint8Array(18) });
    b.enqueue_to_backlog(fr, 0, fr.length);
  }
  b.flush();
  host.process_backlog(n);
}

for (const engine of ENGINES) {
  test(`${engine}: the tap's ingress sees what the guest sent before the bridge: SHOT for one port, the rest flooded out`, (t) => {
    const { host, tc, b } = guestPath();
    tc.attach('br-port-tap', 'ingress', tcProg(dropUdpPort(9, TC_ACT_OK), 'drop9'), { engine });
    fromGuest(host, b, 10);
    const c = host.conservation();
    t.is(c.from_tap, 10);
    t.is(c.terms.tc_shot, 5);
    t.is(host.stats().bridge!.rx_packets, 5);
    t.is(c.terms.nic_wire_tx, 5, 'unknown unicast floods to the NIC');
    t.true(c.balanced, JSON.stringify(c));
    t.like(tc.report()[0], { dev: 'tap0', ifindex: 3, direction: 'ingress', packets: 10, shot: 5 });
  });

  test(`${engine}: a redirect at the tap's ingress to the NIC's transmit path runs the NIC's egress hook`, (t) => {
    const { host, tc, b } = guestPath();
    tc.attach('tap', 'ingress', tcProg(redirect(NIC, 0), 'to_nic'), { engine });
    tc.attach('nic', 'egress', tcProg(ret(TC_ACT_OK), 'nic_out'), { engine });
    fromGuest(host, b, 6);
    const c = host.conservation();
    t.is(c.terms.nic_wire_tx, 6);
    t.is(host.stats().bridge!.rx_packets, 0);
    t.true(c.balanced, JSON.stringify(c));
    t.like(tc.report().find((r) => r.dev === 'eth0'), { direction: 'egress', packets: 6 });
  });

  test(`${engine}: Case 1: the tap's ingress hook builds an skb for the guest's frames before the host stack behind the tap`, (t) => {
    const f = tapFixture({ frames: 256 });
    const b = SoftnetBacklog.create(64);
    const host = new HostNet({ case: 'xdp-redirect', pool: f.pool, tap: f.xmit, wire: false, backlog: b, nicProgram: HostNet.redirectProgram(`${XDP_DIR}redirect.o`) });
    const tc = new HostTc(f.pool);
    host.enableTc(tc);
    fromGuest(host, b, 4);
    t.is(host.tap_rx.delivered, 4, 'no hook: delivered as before');
    tc.attach('tap', 'ingress', tcProg(dropUdpPort(9, TC_ACT_OK), 'drop9'), { engine });
    fromGuest(host, b, 10);
    const c = host.conservation();
    t.is(c.from_tap, 14);
    t.is(c.terms.tc_shot, 5);
    t.is(c.terms.tap_rx_delivered, 9);
    t.true(c.balanced, JSON.stringify(c));
    t.is(host.stats().pool.inFlight, 0);
  });

  test(`${engine}: br0's hooks are net's: a SHOT at br0's ingress drops in the host stack, after the bridge`, (t) => {
    const f = tapFixture({ frames: 512 });
    const stack = new Net(new BootState({ clock: new VirtualClock(), seed: 5 }));
    const host = new HostNet({ case: 'bridge', pool: f.pool, tap: f.xmit, stack, pktgen: { dstMac: BR0_DEFAULT_MAC } });
    const tc = new HostTc(f.pool);
    host.enableTc(tc);
    tc.attach('br0', 'ingress', tcProg(ret(2), 'br0_shot'), { engine });
    host.poll();
    const c = host.conservation();
    t.is(c.terms.host_stack_delivered, 64, 'the bridge handed every frame to br0');
    t.true(c.balanced, JSON.stringify(c));
    const r = tc.report().find((x) => x.dev === 'br0');
    t.like(r, { direction: 'ingress', shot: 64 });
    t.like(r!.filters[0], { prog: 'br0_shot', runs: 64, engine });
  });

  test(`${engine}: programs from an object by section, a map entry written first: drop port 9 at the NIC, dec_ttl at the tap`, (t) => {
    const f = tapFixture({ frames: 1024 });
    const host = new HostNet({ case: 'bridge', pool: f.pool, tap: f.xmit, pktgen: { flows: 4 } });
    const tc = new HostTc(f.pool);
    host.enableTc(tc);
    const att = new HostTcAttachments(tc, engine);
    // Port 7 is not pktgen's (9): nothing is dropped, dec_ttl rewrites every frame.
    att.attach({ dev: 'nic', direction: 'ingress', object: OBJ, section: 'drop_udp_port', maps: [{ map: 'drop_port', key: '00000000', value: '07 00 00 00' }] });
    att.attach({ dev: 'tap', direction: 'egress', object: OBJ, section: 'dec_ttl' });
    host.poll();
    const out = new Uint32Array(MAX_TAP_BATCH);
    const n = f.recv.tun_recvmsg(out);
    t.is(n, 64);
    const fr = f.fp.read(out[0]!);
    t.is(fr[22], 31);
    let s = 0;
    for (let i = 14; i < 34; i += 2) s += (fr[i]! << 8) | fr[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    t.is(s, 0xffff, 'checksum fixed');
    const rep = att.report();
    t.like(rep.hooks[0]!.filters[0], { name: 'host_tc.o:[tc]', prog: 'drop_udp_port', engine, runs: 64, shot: 0 });
    t.deepEqual(Object.keys(rep.maps).sort(), ['drop_port', 'host_tc.o:drop_port', 'host_tc.o:verdicts', 'verdicts']);
    t.true(host.conservation().balanced);
  });
}

test('attachments refuse a device the host lacks, a map the object lacks, bad hex, and a non-tc program', (t) => {
  const { tc } = guestPath();
  const att = new HostTcAttachments(tc);
  t.throws(() => att.attach({ dev: 'wlan0', direction: 'egress', object: OBJ, section: 'dec_ttl' }), { code: 'ENOENT', message: /no device "wlan0"/ });
  t.throws(() => att.attach({ dev: 'nic', direction: 'ingress', object: OBJ, section: 'drop_udp_port', maps: [{ map: 'missing', key: '00', value: '00' }] }),
    { code: 'ENOENT', message: /has no map missing/ });
  t.throws(() => att.attach({ dev: 'nic', direction: 'ingress', object: OBJ, section: 'drop_udp_port', maps: [{ map: 'drop_port', key: 'zz', value: '00' }] }),
    { code: 'EINVAL', message: /not hex/ });
  t.throws(() => att.attach({ dev: 'nic', direction: 'ingress', object: OBJ, section: 'drop_udp_port', maps: [{ map: 'drop_port', key: '00', value: '00' }] }),
    { code: 'EINVAL', message: /map drop_port: the key is 1 bytes, the map's key_size is 4/ }, 'a key of the wrong size');
  t.throws(() => att.attach({ dev: 'nic', direction: 'ingress', object: `${XDP_DIR}xdp1.o` }), { code: 'EINVAL', message: /SCHED_CLS/ });
  t.throws(() => att.attach({ dev: 'nic', direction: 'ingress', object: '/nonexistent.o' }), { code: 'ENOENT' });
  t.deepEqual(att.report().hooks, []);
});
