// cls_bpf in direct-action mode on the clsact qdisc, with real traffic between stacks: drops
// (counted in the qdisc and by reason), several programs in prio/handle order sharing skb->mark,
// the verdict mapping, redirects to another device's egress and ingress, egress SHOT, faults,
// `tc filter` add/del/show. Every program runs on both engines.
import test from 'ava';
import {
  ENGINES, MAC_A, MAC_C, dropUdpPort, redirect, requireMark, ret, setMark, tcProg, threeHosts, udpSocket, type ThreeHosts,
} from './cls-bpf-progs.ts';
import { capture, ethFrame, inject, ip4Packet, recordDrops } from './support/topology.ts';
import {
  bpf_tc_attach, dev_clsact, qdisc_create_clsact, qdisc_destroy_clsact, tc_filter_add, tc_filter_del, tc_filter_list, ClsBpfProg,
} from '../../net/sched/cls-bpf.ts';
import { tc_filter_show_text, tc_qdisc_show_text, bpf_net_show, bpf_net_show_text, bpf_prog_get_id, bpf_prog_tag } from '../../net/core/bpf-show.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { E } from '../../net/core/sock-opts.ts';
import { alloc_skb, ETH_P_IP, ETH_P_IPV6 } from '../../net/core/skbuff.ts';
import { netif_rx, NET_RX_DROP, NET_RX_SUCCESS } from '../../net/core/dev.ts';
import { TC_ACT } from '../../net/sched/pkt-cls.ts';
import { csum_partial, csum_tcpudp_magic } from '../../net/core/checksum.ts';
import type { SockaddrIn } from '../../net/core/msghdr.ts';
import type { Socket } from '../../net/socket.ts';

const sin = (addr: number, port: number): SockaddrIn => ({ family: 2, addr, port });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function attach(h: ThreeHosts, dev: ThreeHosts['deva'], dir: 'ingress' | 'egress', src: string, o: Parameters<typeof tc_filter_add>[3] = {}, name = 'tc_prog'): ClsBpfProg {
  const r = bpf_tc_attach(dev, dir, tcProg(src, name), o);
  if (typeof r === 'number') throw new Error(`attach: ${r}`);
  return r;
}

/** n datagrams from b to a:port; returns how many a's socket read. */
function sendAndCount(h: ThreeHosts, srv: Socket, port: number, n: number): number {
  const cli = udpSocket(h.b);
  for (let i = 0; i < n; i++) cli.sendto(bytes(`d${i}`), sin(h.a4, port));
  h.pump();
  let got = 0;
  const buf = new Uint8Array(64);
  while (srv.recv(buf) >= 0) got++;
  cli.close();
  return got;
}

for (const engine of ENGINES) {
  test.serial(`[${engine}] ingress: a program drops UDP to one port, counted as TC_INGRESS and in the qdisc; other ports pass`, (t) => {
    const drops = recordDrops();
    try {
      const h = threeHosts();
      const s7 = udpSocket(h.a);
      const s8 = udpSocket(h.a);
      t.is(s7.bind(sin(0, 7000)), 0);
      t.is(s8.bind(sin(0, 8000)), 0);
      const f = attach(h, h.deva, 'ingress', dropUdpPort(7000), { engine });
      t.is(sendAndCount(h, s7, 7000, 3), 0);
      t.is(sendAndCount(h, s8, 8000, 2), 2);
      t.is(drops.drops.filter((d) => d === 'TC_INGRESS').length, 3);
      const q = dev_clsact(h.deva)!;
      t.is(q.stats.drops, 3);
      t.is(q.stats.packets, 5);
      t.is(tc_qdisc_show_text(h.deva, true), `qdisc clsact ffff: parent ffff:fff1 \n Sent ${q.stats.bytes} bytes 5 pkt (dropped 3, overlimits 0 requeues 0) \n backlog 0b 0p requeues 0\n`);
      t.is(f.stats.runs, 5);
      t.is(f.stats.shot, 3);
      t.is(h.a.mib.udp.NoPorts, 0, 'never reached UDP');
      // Detached, the port works again and the device's hook list is empty.
      t.is(tc_filter_del(h.deva, 'ingress', { prio: f.tp.prio, handle: f.handle }), 0);
      t.is(h.deva.tc_ingress.length, 0);
      t.is(sendAndCount(h, s7, 7000, 1), 1);
    } finally {
      drops.stop();
    }
  });

  test.serial(`[${engine}] several programs in prio order: one writes skb->mark, a later one reads it; the stack sees the mark`, (t) => {
    const h = threeHosts();
    const srv = udpSocket(h.a);
    t.is(srv.bind(sin(0, 7000)), 0);
    let seenMark = -1;
    // The reader at prio 2, the writer at prio 1: the writer runs first.
    attach(h, h.deva, 'ingress', requireMark(0x1234), { engine, prio: 2, handle: 1 }, 'reader');
    attach(h, h.deva, 'ingress', setMark(0x1234), { engine, prio: 1, handle: 1 }, 'writer');
    // A hook after clsact sees what the stack gets.
    h.deva.tc_ingress.push({ run: (skb) => { seenMark = skb.mark; return -1; } });
    t.is(sendAndCount(h, srv, 7000, 2), 2);
    t.is(seenMark, 0x1234);
    // Reversed (the reader first): every packet is dropped.
    const h2 = threeHosts();
    const srv2 = udpSocket(h2.a);
    t.is(srv2.bind(sin(0, 7000)), 0);
    attach(h2, h2.deva, 'ingress', requireMark(0x1234), { engine, prio: 1 }, 'reader');
    attach(h2, h2.deva, 'ingress', setMark(0x1234), { engine, prio: 2 }, 'writer');
    t.is(sendAndCount(h2, srv2, 7000, 2), 0);
  });

  test.serial(`[${engine}] one prio, several handles: the newest runs first (cls_bpf's list_add_rcu); auto prio counts down from 49152`, (t) => {
    const h = threeHosts();
    const srv = udpSocket(h.a);
    t.is(srv.bind(sin(0, 7000)), 0);
    attach(h, h.deva, 'ingress', requireMark(7), { engine, prio: 5, handle: 1 }, 'reader');
    attach(h, h.deva, 'ingress', setMark(7), { engine, prio: 5, handle: 2 }, 'writer');
    t.deepEqual(tc_filter_list(h.deva, 'ingress').map((f) => [f.prio, f.handle, f.name]), [[5, 2, 'writer'], [5, 1, 'reader']]);
    t.is(sendAndCount(h, srv, 7000, 1), 1);
    const a = attach(h, h.deva1, 'egress', ret(-1), { engine });
    const b = attach(h, h.deva1, 'egress', ret(-1), { engine });
    t.deepEqual([a.tp.prio, a.handle, b.tp.prio, b.handle], [49152, 1, 49151, 1]);
    t.deepEqual(tc_filter_list(h.deva1, 'egress').map((f) => f.prio), [49151, 49152]);
  });

  test.serial(`[${engine}] direct-action verdicts: PIPE, RECLASSIFY and QUEUED go on to the next program; STOLEN and TRAP consume without a drop; OK stops`, (t) => {
    const drops = recordDrops();
    try {
      const cases: [number, 'next' | 'consumed' | 'passed'][] = [
        [TC_ACT.TC_ACT_PIPE, 'next'], [TC_ACT.TC_ACT_RECLASSIFY, 'next'], [TC_ACT.TC_ACT_QUEUED, 'next'], [TC_ACT.TC_ACT_REPEAT, 'next'],
        [99, 'next'], [TC_ACT.TC_ACT_STOLEN, 'consumed'], [TC_ACT.TC_ACT_TRAP, 'consumed'], [TC_ACT.TC_ACT_OK, 'passed'],
      ];
      for (const [verdict, want] of cases) {
        const h = threeHosts();
        const srv = udpSocket(h.a);
        t.is(srv.bind(sin(0, 7000)), 0);
        attach(h, h.deva, 'ingress', ret(verdict), { engine, prio: 1 });
        const second = attach(h, h.deva, 'ingress', ret(TC_ACT.TC_ACT_SHOT), { engine, prio: 2 });
        drops.drops.length = 0;
        const got = sendAndCount(h, srv, 7000, 1);
        if (want === 'next') {
          t.is(got, 0, `${verdict}`);
          t.is(second.stats.runs, 1, `${verdict}: the next program ran`);
          t.deepEqual(drops.drops, ['TC_INGRESS']);
        } else {
          t.is(second.stats.runs, 0, `${verdict}`);
          t.is(got, want === 'passed' ? 1 : 0, `${verdict}`);
          t.deepEqual(drops.drops, [], `${verdict}: not a drop`);
        }
      }
    } finally {
      drops.stop();
    }
  });

  test.serial(`[${engine}] redirect at ingress to another device's egress: b's datagram leaves on veth1 to c unchanged`, (t) => {
    const h = threeHosts();
    const srv = udpSocket(h.a);
    t.is(srv.bind(sin(0, 7000)), 0);
    const seen = capture(h.c);
    const f = attach(h, h.deva, 'ingress', redirect(h.deva1.ifindex, 0), { engine });
    t.is(sendAndCount(h, srv, 7000, 2), 0, 'a never received them');
    t.is(f.stats.redirect, 2);
    const rx = seen.filter((s) => !s.outgoing && s.dev === 'veth0');
    t.is(rx.length, 2);
    // The frame as b sent it: b's MACs, IPv4 to a:7000.
    const fr = rx[0]!.bytes;
    t.deepEqual([...fr.subarray(0, 6)], [...MAC_A]);
    t.is((fr[12]! << 8) | fr[13]!, ETH_P_IP);
    t.is((fr[36]! << 8) | fr[37]!, 7000);
    t.is(h.deva1.stats.tx_packets, 2);
  });

  test.serial(`[${engine}] redirect with BPF_F_INGRESS: a frame arriving on veth1 is received as if on veth0 (netif_rx, the backlog)`, (t) => {
    const h = threeHosts();
    const srv = udpSocket(h.a);
    t.is(srv.bind(sin(h.a4, 7000)), 0);
    const seen = capture(h.a);
    attach(h, h.deva1, 'ingress', redirect(h.deva.ifindex, 1), { engine });
    // A datagram from c for a's veth0 address and MAC, arriving on veth1.
    const payload = bytes('via veth1');
    const udp = new Uint8Array(8 + payload.length);
    const v = new DataView(udp.buffer);
    v.setUint16(0, 5555);
    v.setUint16(2, 7000);
    v.setUint16(4, udp.length);
    udp.set(payload, 8);
    const sum = csum_tcpudp_magic(h.c4, h.a4, udp.length, 17, csum_partial(udp, 0, udp.length, 0));
    v.setUint16(6, sum === 0 ? 0xffff : sum);
    inject(h.deva1, ethFrame(MAC_A, MAC_C, ETH_P_IP, ip4Packet({ src: h.c4, dst: h.a4, proto: 17, payload: udp })));
    h.pump();
    const buf = new Uint8Array(64);
    const r = srv.recvfrom(buf);
    t.is(r.n, payload.length);
    t.deepEqual(r.from, sin(h.c4, 5555));
    // The taps saw it on veth1, then again on veth0 (the second receive).
    t.deepEqual(seen.filter((s) => !s.outgoing).map((s) => s.dev), ['veth1', 'veth0']);
    t.is(h.a.dev_base.backlog.qlen, 0);
  });

  test.serial(`[${engine}] egress: SHOT drops what a sends (TC_EGRESS, qdisc drops); a redirect sends it out of veth1 instead`, (t) => {
    const drops = recordDrops();
    try {
      const h = threeHosts();
      const srv = udpSocket(h.b);
      t.is(srv.bind(sin(0, 7000)), 0);
      const cli = udpSocket(h.a);
      const f = attach(h, h.deva, 'egress', dropUdpPort(7000, 0), { engine });
      cli.sendto(bytes('x'), sin(h.b4, 7000));
      cli.sendto(bytes('y'), sin(h.b4, 7000));
      h.pump();
      const buf = new Uint8Array(16);
      t.is(srv.recv(buf), -E.EAGAIN);
      t.is(drops.drops.filter((d) => d === 'TC_EGRESS').length, 2);
      t.is(dev_clsact(h.deva)!.stats.drops, 2);
      t.is(f.stats.shot, 2);
      t.is(h.deva.stats.tx_packets, 0);
      t.is(tc_filter_del(h.deva, 'egress'), 0);
      // Redirected to veth1's egress: c sees it, b does not.
      const seen = capture(h.c);
      attach(h, h.deva, 'egress', redirect(h.deva1.ifindex, 0), { engine });
      cli.sendto(bytes('z'), sin(h.b4, 7000));
      h.pump();
      t.is(srv.recv(buf), -E.EAGAIN);
      t.is(seen.filter((s) => !s.outgoing).length, 1);
      t.is(h.deva1.stats.tx_packets, 1);
    } finally {
      drops.stop();
    }
  });

  test.serial(`[${engine}] egress redirect to a receive path is deferred to the backlog; an unknown ifindex drops and counts`, (t) => {
    const drops = recordDrops();
    try {
      const h = threeHosts();
      const seen = capture(h.a);
      attach(h, h.deva, 'egress', redirect(h.deva1.ifindex, 1), { engine });
      const cli = udpSocket(h.a);
      cli.sendto(bytes('loop'), sin(h.b4, 7000));
      // Not received inside sendto: it waits on a's backlog until the softirq runs.
      t.is(h.a.dev_base.backlog.qlen, 1);
      h.pump();
      t.is(h.a.dev_base.backlog.qlen, 0);
      t.deepEqual(seen.filter((s) => !s.outgoing).map((s) => s.dev), ['veth1']);
      // Its destination MAC is b's: PACKET_OTHERHOST on veth1, dropped by IP.
      t.true(drops.drops.includes('OTHERHOST'));
      t.is(tc_filter_del(h.deva, 'egress'), 0);
      attach(h, h.deva, 'egress', redirect(999, 0), { engine });
      drops.drops.length = 0;
      cli.sendto(bytes('nowhere'), sin(h.b4, 7000));
      h.pump();
      t.is(h.a.dev_base.redirect_errors, 1);
      t.deepEqual(drops.drops, ['NOT_SPECIFIED']);
      t.is(h.devb.stats.rx_packets, 0);
    } finally {
      drops.stop();
    }
  });

  test.serial(`[${engine}] a fault in an unverified program drops the packet, counted as a fault, never thrown out of the stack`, (t) => {
    const drops = recordDrops();
    try {
      const h = threeHosts();
      const srv = udpSocket(h.a);
      t.is(srv.bind(sin(0, 7000)), 0);
      // A load 8 bytes above the stack frame.
      const f = attach(h, h.deva, 'ingress', 'ldxdw %r0, [%r10+8]\nexit', { engine, verify: false });
      t.is(sendAndCount(h, srv, 7000, 2), 0);
      t.is(f.stats.faults, 2);
      t.is(drops.drops.filter((d) => d === 'TC_INGRESS').length, 2);
    } finally {
      drops.stop();
    }
  });
}

test('tc filter add refusals: no clsact, a non-SCHED_CLS program, an existing handle; a protocol filter sees only its protocol', (t) => {
  const h = threeHosts();
  const p = tcProg(ret(2));
  t.is(tc_filter_add(h.deva, 'ingress', p), -E.EINVAL, 'Parent Qdisc doesn\'t exists');
  t.is(qdisc_create_clsact(h.deva), 0);
  t.is(qdisc_create_clsact(h.deva), -E.EEXIST);
  t.is(tc_filter_add(h.deva, 'ingress', { ...p, type: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT }), -E.EINVAL);
  t.is(tc_filter_add(h.deva, 'ingress', { ...p, type: BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER }), -E.EINVAL);
  t.true(tc_filter_add(h.deva, 'ingress', p, { prio: 1, handle: 1, protocol: ETH_P_IPV6 }) instanceof ClsBpfProg);
  t.is(tc_filter_add(h.deva, 'ingress', p, { prio: 1, handle: 1, protocol: ETH_P_IPV6 }), -E.EEXIST);
  t.is(tc_filter_add(h.deva, 'ingress', p, { prio: 1, handle: 2, protocol: ETH_P_IP }), -E.EINVAL, 'another protocol at the prio');
  const replaced = tc_filter_add(h.deva, 'ingress', tcProg(ret(2), 'second'), { prio: 1, handle: 1, protocol: ETH_P_IPV6, replace: true });
  t.true(replaced instanceof ClsBpfProg);
  t.deepEqual(tc_filter_list(h.deva, 'ingress').map((f) => f.name), ['second']);
  // A SHOT for IPv6 only: IPv4 still passes.
  const srv = udpSocket(h.a);
  t.is(srv.bind(sin(0, 7000)), 0);
  t.is(sendAndCount(h, srv, 7000, 1), 1);
  t.is(tc_filter_del(h.deva, 'ingress', { prio: 3 }), -E.ENOENT);
  t.is(tc_filter_del(h.deva, 'ingress', { prio: 1, handle: 9 }), -E.ENOENT);
  t.is(qdisc_destroy_clsact(h.deva), 0);
  t.is(h.deva.tc_ingress.length, 0);
  t.is(qdisc_destroy_clsact(h.deva), -E.EINVAL);
});

test('without direct-action the return value is a classid: tc_index gets its minor, and 0 means no match', (t) => {
  const h = threeHosts();
  const srv = udpSocket(h.a);
  t.is(srv.bind(sin(0, 7000)), 0);
  t.is(qdisc_create_clsact(h.deva), 0);
  t.true(tc_filter_add(h.deva, 'ingress', tcProg(ret(0)), { prio: 1, direct_action: false }) instanceof ClsBpfProg);
  t.true(tc_filter_add(h.deva, 'ingress', tcProg(ret(0x10022)), { prio: 2, direct_action: false }) instanceof ClsBpfProg);
  let tcIndex = -1;
  h.deva.tc_ingress.push({ run: (skb) => { tcIndex = skb.tc_index; return -1; } });
  t.is(sendAndCount(h, srv, 7000, 1), 1);
  t.is(tcIndex, 0x22);
});

test('tc filter show and bpftool net: the filters of each device in order, with name, id, tag, prio, handle, direct-action', (t) => {
  const h = threeHosts();
  const drop = tcProg(dropUdpPort(7000), 'drop_udp');
  const mark = tcProg(setMark(1), 'set_mark');
  t.true(bpf_tc_attach(h.deva, 'ingress', drop, { prio: 1, handle: 1, name: 'tc_prog.o:[tc]', engine: 'jit' }) instanceof ClsBpfProg);
  t.true(bpf_tc_attach(h.deva, 'ingress', mark, { prio: 2, handle: 3, engine: 'interp' }) instanceof ClsBpfProg);
  t.true(bpf_tc_attach(h.deva1, 'egress', mark, { prio: 1, handle: 1, engine: 'jit' }) instanceof ClsBpfProg);
  const idd = bpf_prog_get_id(drop);
  const idm = bpf_prog_get_id(mark);
  t.regex(bpf_prog_tag(drop), /^[0-9a-f]{16}$/);
  t.not(bpf_prog_tag(drop), bpf_prog_tag(mark));
  t.is(
    tc_filter_show_text(h.deva, 'ingress'),
    'filter protocol all pref 1 bpf chain 0 \n' +
      `filter protocol all pref 1 bpf chain 0 handle 0x1 tc_prog.o:[tc] direct-action not_in_hw id ${idd} name drop_udp tag ${bpf_prog_tag(drop)} jited \n` +
      'filter protocol all pref 2 bpf chain 0 \n' +
      `filter protocol all pref 2 bpf chain 0 handle 0x3 set_mark direct-action not_in_hw id ${idm} name set_mark tag ${bpf_prog_tag(mark)} \n`,
  );
  t.is(tc_filter_show_text(h.deva, 'egress'), '');
  t.is(
    bpf_net_show_text(h.a),
    'xdp:\n\ntc:\n' +
      `veth0(2) clsact/ingress tc_prog.o:[tc] id ${idd}\n` +
      `veth0(2) clsact/ingress set_mark id ${idm}\n` +
      `veth1(3) clsact/egress set_mark id ${idm}\n` +
      '\nflow_dissector:\n\nnetfilter:\n\n',
  );
  const s = bpf_net_show(h.a, { dev: 'veth1' });
  t.deepEqual(s.tc.map((e) => [e.devname, e.kind, e.prio, e.handle, e.direct_action]), [['veth1', 'clsact/egress', 1, 1, true]]);
});

test('netif_rx: the backlog takes netdev_max_backlog + 1 packets (enqueue_to_backlog tests qlen <= max), then drops as CPU_BACKLOG', (t) => {
  const drops = recordDrops();
  try {
    const h = threeHosts();
    h.a.core.sysctl_netdev_max_backlog = 2;
    const rets: number[] = [];
    for (let i = 0; i < 5; i++) {
      const skb = alloc_skb(64);
      skb.dev = h.deva;
      rets.push(netif_rx(skb));
    }
    t.deepEqual(rets, [NET_RX_SUCCESS, NET_RX_SUCCESS, NET_RX_SUCCESS, NET_RX_DROP, NET_RX_DROP]);
    t.is(h.a.dev_base.backlog.qlen, 3);
    t.deepEqual(drops.drops, ['CPU_BACKLOG', 'CPU_BACKLOG']);
    t.is(h.deva.stats.rx_dropped, 2);
  } finally {
    drops.stop();
  }
});
