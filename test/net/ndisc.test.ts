// Neighbour discovery (net/ipv6/ndisc.ts on net/core/neighbour.ts): the NS/NA exchange field by
// field (solicited-node group, link-layer options, hop limit 255, flags), the waiting packet
// released, FAILED after three solicitations, the hop-limit and code checks, solicitations for
// other hosts, static entries.
import test from 'ava';
import { MAC_A, MAC_B, capture, ethFrame, icmp6Msg, inject, ip6Packet, recordDrops, twoHosts, type Captured, type TwoHosts } from './support/topology.ts';
import { MAX_HEADER, alloc_skb, skb_put, skb_reserve } from '../../net/core/skbuff.ts';
import { inet_ntop6, inet_pton6 } from '../../net/core/inet-addr.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';
import { neigh_lookup6, neigh_state_name } from '../../net/core/neighbour.ts';
import { ip6_build_and_send_pkt } from '../../net/ipv6/ip6-output.ts';

const ETH_P_IPV6 = 0x86dd;

function ping6(h: TwoHosts, dst: In6Addr): number {
  const skb = alloc_skb(MAX_HEADER + 16);
  skb_reserve(skb, MAX_HEADER);
  skb.head.set(icmp6Msg(128, 0, 1, new Uint8Array(8), h.a6, dst), skb_put(skb, 16));
  return ip6_build_and_send_pkt(skb, h.a, null, h.a6, dst, 58);
}

function nd(seen: Captured[], outgoing: boolean, type: number): Uint8Array[] {
  return seen
    .filter((f) => f.outgoing === outgoing && f.bytes[12] === 0x86 && f.bytes[13] === 0xdd && f.bytes[14 + 6] === 58 && f.bytes[14 + 40] === type)
    .map((f) => f.bytes);
}

function state(h: TwoHosts, a: In6Addr): string {
  const n = neigh_lookup6(h.a.ipv6.nd_tbl, a, h.deva);
  return n === undefined ? 'none' : neigh_state_name(n.nud_state);
}

test('NS to the solicited-node group and the solicited NA, field by field; the packet waits and goes', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  t.is(ping6(h, h.b6), 0);
  t.is(state(h, h.b6), 'INCOMPLETE');
  const ns = nd(seen, true, 135);
  t.is(ns.length, 1);
  const f = ns[0]!;
  t.deepEqual([...f.subarray(0, 6)], [0x33, 0x33, 0xff, 0x00, 0x00, 0x02], 'the group\'s MAC');
  const ip = f.subarray(14);
  t.is(ip[7], 255, 'hop limit 255');
  t.is(inet_ntop6(new In6Addr().read(ip, 8)), 'fd00::1', 'from the waiting packet\'s source');
  t.is(inet_ntop6(new In6Addr().read(ip, 24)), 'ff02::1:ff00:2', 'to the solicited-node group');
  const msg = ip.subarray(40);
  t.is(msg[1], 0);
  t.is(inet_ntop6(new In6Addr().read(msg, 8)), 'fd00::2', 'target');
  t.deepEqual([msg[24], msg[25]], [1, 1], 'source link-layer address option');
  t.deepEqual([...msg.subarray(26, 32)], [...MAC_A]);
  h.pump();
  const na = nd(seen, false, 136);
  t.is(na.length, 1);
  const nip = na[0]!.subarray(14);
  t.is(nip[7], 255);
  t.is(inet_ntop6(new In6Addr().read(nip, 8)), 'fd00::2');
  t.is(inet_ntop6(new In6Addr().read(nip, 24)), 'fd00::1', 'unicast back to the asker');
  const nmsg = nip.subarray(40);
  t.is(nmsg[4], 0x60, 'solicited and override (the solicitation was multicast)');
  t.deepEqual([nmsg[24], nmsg[25]], [2, 1], 'target link-layer address option');
  t.deepEqual([...nmsg.subarray(26, 32)], [...MAC_B]);
  t.is(state(h, h.b6), 'REACHABLE');
  t.is(h.a.mib.ipv6.Icmp6InEchoReplies, 1, 'the waiting echo went out once resolved');
  t.is(h.b.mib.ipv6.Icmp6InNeighborSolicits, 1);
  t.is(h.b.mib.ipv6.Icmp6OutNeighborAdvertisements, 1);
  t.is(h.b.ipv6.nd_tbl.stats.rcv_probes_mcast, 1);
  t.is(neigh_state_name(neigh_lookup6(h.b.ipv6.nd_tbl, h.a6, h.devb)!.nud_state), 'DELAY', 'b learnt a (STALE) and has used it since');
});

test('FAILED after three solicitations: the packet dropped, address unreachable to its sender', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  const rec = recordDrops();
  try {
    const ghost = inet_pton6('fd00::77');
    ping6(h, ghost);
    h.advance(2999);
    t.is(nd(seen, true, 135).length, 3);
    t.is(state(h, ghost), 'INCOMPLETE');
    h.advance(1);
    t.is(state(h, ghost), 'FAILED');
    t.true(rec.drops.includes('NEIGH_FAILED'));
    t.is(h.a.mib.ipv6.Icmp6OutDestUnreachs, 1);
    t.is(h.a.mib.ipv6.Icmp6InDestUnreachs, 1, 'delivered to ourselves through lo');
  } finally {
    rec.stop();
  }
});

test('ND with a hop limit below 255 or a nonzero code is dropped; an NS for another host is not answered', (t) => {
  const h = twoHosts();
  const rec = recordDrops();
  try {
    const sn = inet_pton6('ff02::1:ff00:2');
    const body = (target: In6Addr): Uint8Array => {
      // The target, then a source link-layer address option.
      const b = new Uint8Array(24);
      const v = new DataView(b.buffer);
      v.setUint32(0, target.w0);
      v.setUint32(4, target.w1);
      v.setUint32(8, target.w2);
      v.setUint32(12, target.w3);
      b.set([1, 1], 16);
      b.set(MAC_A, 18);
      return b;
    };
    const ns = (hlim: number, code: number, target: In6Addr): Uint8Array =>
      ip6Packet({ src: h.a6, dst: sn, nexthdr: 58, hlim, payload: icmp6Msg(135, code, 0, body(target), h.a6, sn) });
    const mcMac = new Uint8Array([0x33, 0x33, 0xff, 0, 0, 2]);
    inject(h.devb, ethFrame(mcMac, MAC_A, ETH_P_IPV6, ns(64, 0, h.b6)));
    inject(h.devb, ethFrame(mcMac, MAC_A, ETH_P_IPV6, ns(255, 1, h.b6)));
    inject(h.devb, ethFrame(mcMac, MAC_A, ETH_P_IPV6, ns(255, 0, inet_pton6('fd00::2:0:0:2'))));
    h.pump();
    t.deepEqual(rec.drops, ['IPV6_NDISC_HOP_LIMIT', 'IPV6_NDISC_BAD_CODE', 'IPV6_NDISC_NS_OTHERHOST']);
    t.is(h.b.mib.ipv6.Icmp6OutNeighborAdvertisements, 0);
    rec.drops.length = 0;
    inject(h.devb, ethFrame(mcMac, MAC_A, ETH_P_IPV6, ns(255, 0, h.b6)));
    h.pump();
    t.is(h.b.mib.ipv6.Icmp6OutNeighborAdvertisements, 1, 'a well-formed one is answered');
  } finally {
    rec.stop();
  }
});

test('static v6 neighbours: no neighbour discovery', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  ping6(h, h.b6);
  h.pump();
  t.is(nd(seen, true, 135).length + nd(seen, false, 135).length, 0);
  t.is(state(h, h.b6), 'PERMANENT');
  t.is(h.a.mib.ipv6.Icmp6InEchoReplies, 1);
});

test('a stale entry is probed by unicast NS after DELAY and confirmed by the NA', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  ping6(h, h.b6);
  h.pump();
  h.advance(h.a.ipv6.nd_tbl.parms.reachable_time + 1000);
  t.is(state(h, h.b6), 'STALE');
  ping6(h, h.b6);
  t.is(state(h, h.b6), 'DELAY');
  const before = nd(seen, true, 135).length;
  h.advance(5000);
  const probes = nd(seen, true, 135).slice(before);
  t.is(probes.length, 1);
  t.deepEqual([...probes[0]!.subarray(0, 6)], [...MAC_B], 'unicast to the cached address');
  t.is(inet_ntop6(new In6Addr().read(probes[0]!, 14 + 24)), 'fd00::2');
  t.is(state(h, h.b6), 'REACHABLE');
});

test('a DAD probe for our address is defended to all nodes; malformed options are dropped', (t) => {
  const h = twoHosts();
  const seen = capture(h.b);
  const rec = recordDrops();
  try {
    const sn = inet_pton6('ff02::1:ff00:2');
    const mcMac = new Uint8Array([0x33, 0x33, 0xff, 0, 0, 2]);
    const target = new Uint8Array(16);
    const tv = new DataView(target.buffer);
    tv.setUint32(0, h.b6.w0); tv.setUint32(4, h.b6.w1); tv.setUint32(8, h.b6.w2); tv.setUint32(12, h.b6.w3);
    const any = new In6Addr();
    inject(h.devb, ethFrame(mcMac, MAC_A, ETH_P_IPV6, ip6Packet({ src: any, dst: sn, nexthdr: 58, hlim: 255, payload: icmp6Msg(135, 0, 0, target, any, sn) })));
    h.pump();
    const na = nd(seen, true, 136);
    t.is(na.length, 1);
    t.is(inet_ntop6(new In6Addr().read(na[0]!, 14 + 24)), 'ff02::1', 'to all nodes');
    t.is(na[0]![14 + 40 + 4], 0x20, 'override, not solicited');
    t.deepEqual([...na[0]!.subarray(0, 6)], [0x33, 0x33, 0, 0, 0, 1]);
    t.is(h.b.mib.ipv6.Icmp6InNeighborAdvertisements, 0, 'ND is never looped back to its sender (the ndisc socket\'s mc_loop 0)');
    // An option of length 0.
    const bad = new Uint8Array(24);
    bad.set(target);
    bad.set([1, 0], 16);
    inject(h.devb, ethFrame(mcMac, MAC_A, ETH_P_IPV6, ip6Packet({ src: h.a6, dst: sn, nexthdr: 58, hlim: 255, payload: icmp6Msg(135, 0, 0, bad, h.a6, sn) })));
    h.pump();
    t.true(rec.drops.includes('IPV6_NDISC_BAD_OPTIONS'));
    t.is(nd(seen, true, 136).length, 1);
  } finally {
    rec.stop();
  }
});
