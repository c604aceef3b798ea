// ICMP errors (net/ipv4/icmp.ts, net/ipv6/icmp.ts): Linux's rules on what is never answered, the
// 576-byte quote, the per-destination and global rate limits, errors handed to the quoted
// protocol's err_handler (and refused when the quote is short), frag-needed's MTU.
import test from 'ava';
import {
  MAC_A, MAC_B, capture, ethFrame, icmp4Msg, icmp6Msg, inject, ip4Packet, ip6Packet, twoHosts, type TwoHosts,
} from './support/topology.ts';
import { PACKET_BROADCAST, netdev_alloc_skb, skb_put, type SkBuff } from '../../net/core/skbuff.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import { ICMP, icmp_send } from '../../net/ipv4/icmp.ts';
import { ICMPV6, icmpv6_send } from '../../net/ipv6/icmp.ts';
import { inet6_protos, inet_protos } from '../../net/ipv4/protocol.ts';

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;

function toB(h: TwoHosts, ip: Uint8Array): void {
  inject(h.devb, ethFrame(MAC_B, MAC_A, ETH_P_IP, ip));
  h.pump();
}
function toA(h: TwoHosts, ip: Uint8Array, type = ETH_P_IP): void {
  inject(h.deva, ethFrame(MAC_A, MAC_B, type, ip));
  h.pump();
}

/** An skb as b's receive path holds it: data and network header at the IP header, dev set. */
function rxSkb(h: TwoHosts, ip: Uint8Array): SkBuff {
  const skb = netdev_alloc_skb(h.devb, ip.length);
  skb.head.set(ip, skb_put(skb, ip.length));
  skb.network_header = skb.data;
  return skb;
}

test('protocol unreachable is rate limited per destination: a burst of 6, then one a second', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const pkt = ip4Packet({ src: h.a4, dst: h.b4, proto: 253, payload: new Uint8Array(8) });
  for (let i = 0; i < 10; i++) toB(h, pkt);
  const m = h.b.mib.icmp;
  t.is(m.OutDestUnreachs, 6, 'XRLIM_BURST_FACTOR tokens');
  t.is(m.OutRateLimitHost, 4);
  t.is(h.b.mib.ip.InUnknownProtos, 10, 'every datagram still counted');
  h.advance(999);
  toB(h, pkt);
  t.is(m.OutDestUnreachs, 6, 'under a second: no token yet');
  h.advance(1);
  toB(h, pkt);
  t.is(m.OutDestUnreachs, 7, 'icmp_ratelimit (1000 ms) later: one more');
  t.is(h.a.mib.icmp.InDestUnreachs, 7);
});

test('the global token bucket (icmp_msgs_burst) limits all destinations together', (t) => {
  const h = twoHosts({ staticNeigh: true });
  h.b.ipv4.sysctl_icmp_ratelimit = 0;
  h.b.ipv4.sysctl_icmp_msgs_burst = 4;
  const pkt = ip4Packet({ src: h.a4, dst: h.b4, proto: 253, payload: new Uint8Array(8) });
  for (let i = 0; i < 20; i++) toB(h, pkt);
  const m = h.b.mib.icmp;
  t.true(m.OutRateLimitGlobal > 0);
  t.is(m.OutDestUnreachs + m.OutRateLimitGlobal, 20);
  // Each error costs 0-2 credits at random, so a burst of 4 lets through at least 2.
  t.true(m.OutDestUnreachs >= 2, `${m.OutDestUnreachs} sent`);
  const sent = m.OutDestUnreachs;
  h.advance(19);
  toB(h, pkt);
  t.is(m.OutDestUnreachs, sent, 'refills are at least 20 ms apart');
  h.advance(1);
  toB(h, pkt);
  t.is(m.OutDestUnreachs, sent + 1);
});

test('echo replies are never rate limited (not in icmp_ratemask)', (t) => {
  const h = twoHosts({ staticNeigh: true });
  h.b.ipv4.sysctl_icmp_msgs_burst = 1;
  const pkt = ip4Packet({ src: h.a4, dst: h.b4, proto: 1, payload: icmp4Msg(8, 0, 1, new Uint8Array(8)) });
  for (let i = 0; i < 30; i++) toB(h, pkt);
  t.is(h.b.mib.icmp.OutEchoReps, 30);
});

test('icmp_send never answers an ICMP error, a broadcast, a link broadcast or a later fragment', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const m = h.b.mib.icmp;
  const udp = (o: Partial<Parameters<typeof ip4Packet>[0]> = {}): Uint8Array => ip4Packet({ src: h.a4, dst: h.b4, proto: 17, payload: new Uint8Array(16), ...o });
  icmp_send(rxSkb(h, udp()), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  t.is(m.OutMsgs, 1, 'about an ordinary datagram: sent');
  const aboutError = ip4Packet({ src: h.a4, dst: h.b4, proto: 1, payload: icmp4Msg(3, 3, 0, new Uint8Array(28)) });
  icmp_send(rxSkb(h, aboutError), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  t.is(m.OutMsgs, 1, 'about an ICMP error: never');
  const aboutEcho = ip4Packet({ src: h.a4, dst: h.b4, proto: 1, payload: icmp4Msg(8, 0, 0, new Uint8Array(8)) });
  icmp_send(rxSkb(h, aboutEcho), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  t.is(m.OutMsgs, 2, 'about an ICMP query: allowed');
  const unknownInner = ip4Packet({ src: h.a4, dst: h.b4, proto: 1, payload: icmp4Msg(42, 0, 0, new Uint8Array(8)) });
  icmp_send(rxSkb(h, unknownInner), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  t.is(m.OutMsgs, 2, 'an unknown ICMP type counts as an error');
  icmp_send(rxSkb(h, udp({ dst: inet_pton4('10.0.0.255') })), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  icmp_send(rxSkb(h, udp({ dst: 0xffffffff })), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  icmp_send(rxSkb(h, udp({ dst: inet_pton4('224.0.0.1') })), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  t.is(m.OutMsgs, 2, 'about broadcasts and multicasts: never');
  const bcastFrame = rxSkb(h, udp());
  bcastFrame.pkt_type = PACKET_BROADCAST;
  icmp_send(bcastFrame, ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  t.is(m.OutMsgs, 2, 'about a link-layer broadcast: never');
  icmp_send(rxSkb(h, udp({ frag: 0x0003 })), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  t.is(m.OutMsgs, 2, 'about a non-first fragment: never');
  icmp_send(rxSkb(h, udp({ frag: 0x2000 })), ICMP.ICMP_DEST_UNREACH, ICMP.ICMP_PORT_UNREACH, 0);
  t.is(m.OutMsgs, 3, 'about a first fragment: allowed');
});

test('the quote is as much of the original as fits in 576 bytes', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  const pkt = ip4Packet({ src: h.a4, dst: h.b4, proto: 253, payload: new Uint8Array(1000).map((_, i) => i & 0xff) });
  toB(h, pkt);
  const rx = seen.filter((f) => !f.outgoing);
  t.is(rx.length, 1);
  const ip = rx[0]!.bytes.subarray(14);
  t.is((ip[2]! << 8) | ip[3]!, 576);
  t.deepEqual([...ip.subarray(28)], [...pkt.subarray(0, 576 - 28)]);
});

test('received errors reach the quoted protocol\'s err_handler with type, code and info; a short quote does not', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const got: [number, number, number, number][] = [];
  inet_protos[253] = {
    handler: () => 0,
    err_handler: (skb, type, code, info) => {
      got.push([type, code, info, skb.head[skb.data + 9]!]);
      return 0;
    },
  };
  try {
    const quoted = ip4Packet({ src: h.a4, dst: inet_pton4('10.0.0.77'), proto: 253, payload: new Uint8Array(8) });
    toA(h, ip4Packet({ src: h.b4, dst: h.a4, proto: 1, payload: icmp4Msg(3, 4, 1400, quoted) }));
    t.deepEqual(got, [[3, 4, 1400, 253]], 'frag needed: the next-hop MTU as info');
    toA(h, ip4Packet({ src: h.b4, dst: h.a4, proto: 1, payload: icmp4Msg(12, 0, 0x05000000, quoted) }));
    t.deepEqual(got[1], [12, 0, 5, 253], 'parameter problem: the pointer');
    toA(h, ip4Packet({ src: h.b4, dst: h.a4, proto: 1, payload: icmp4Msg(3, 3, 0, quoted.subarray(0, 24)) }));
    t.is(got.length, 2, 'fewer than 8 bytes of the transport header: not delivered');
    t.is(h.a.mib.icmp.InErrors, 1);
    t.is(h.a.mib.icmp.InDestUnreachs, 2);
    t.is(h.a.mib.icmp.InParmProbs, 1);
  } finally {
    inet_protos[253] = undefined;
  }
});

test('ICMPv6: errors are never about ICMPv6 errors or multicast, and are rate limited by prefix length', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const m = h.b.mib.ipv6;
  const skb6 = (ip: Uint8Array): SkBuff => rxSkb(h, ip);
  const udp6 = ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 17, payload: new Uint8Array(16) });
  icmpv6_send(skb6(udp6), ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_PORT_UNREACH, 0);
  t.is(m.Icmp6OutDestUnreachs, 1);
  const err6 = ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 58, payload: icmp6Msg(1, 4, 0, new Uint8Array(48), h.a6, h.b6) });
  icmpv6_send(skb6(err6), ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_PORT_UNREACH, 0);
  t.is(m.Icmp6OutDestUnreachs, 1, 'about an ICMPv6 error: never');
  const mc = ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 17, payload: new Uint8Array(16) });
  mc[24] = 0xff; mc[25] = 0x02;
  icmpv6_send(skb6(mc), ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_PORT_UNREACH, 0);
  t.is(m.Icmp6OutDestUnreachs, 1, 'about a multicast destination: never');
  // The connected /64 route: icmpv6_ratelimit 1000 ms >> (64 / 32) = 250 ms a token, 6 saved.
  for (let i = 0; i < 10; i++) icmpv6_send(skb6(udp6), ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_PORT_UNREACH, 0);
  t.is(m.Icmp6OutDestUnreachs, 6, 'the burst: 5 left after the first');
  h.advance(249);
  icmpv6_send(skb6(udp6), ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_PORT_UNREACH, 0);
  t.is(m.Icmp6OutDestUnreachs, 6);
  h.advance(1);
  icmpv6_send(skb6(udp6), ICMPV6.ICMPV6_DEST_UNREACH, ICMPV6.ICMPV6_PORT_UNREACH, 0);
  t.is(m.Icmp6OutDestUnreachs, 7);
  h.pump();
  t.is(h.a.mib.ipv6.Icmp6InDestUnreachs, 7);
});

test('ICMPv6 errors reach inet6_protos err_handler with the transport offset past extension headers', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const got: [number, number, number, number][] = [];
  inet6_protos[253] = {
    handler: () => 0,
    err_handler: (_skb, type, code, offset, info) => {
      got.push([type, code, offset, info]);
      return 0;
    },
  };
  try {
    // The quoted packet: a destination options header (8 bytes), then protocol 253.
    const inner = ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 60, payload: new Uint8Array([253, 0, 1, 4, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]) });
    toA(h, ip6Packet({ src: h.b6, dst: h.a6, nexthdr: 58, payload: icmp6Msg(2, 0, 1280, inner, h.b6, h.a6) }), ETH_P_IPV6);
    t.deepEqual(got, [[2, 0, 48, 1280]]);
  } finally {
    inet6_protos[253] = undefined;
  }
});

test('timestamp requests are answered with the originate time and the machine\'s ms of the day', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  h.advance(1234);
  const req = new Uint8Array(12);
  new DataView(req.buffer).setUint32(0, 0xabcdef01);
  toB(h, ip4Packet({ src: h.a4, dst: h.b4, proto: 1, payload: icmp4Msg(13, 0, 0x00420001, req) }));
  const rx = seen.filter((f) => !f.outgoing);
  t.is(rx.length, 1);
  const icmp = rx[0]!.bytes.subarray(14 + 20);
  const v = new DataView(icmp.buffer, icmp.byteOffset);
  t.is(icmp[0], 14);
  t.is(v.getUint32(4), 0x00420001);
  t.is(v.getUint32(8), 0xabcdef01, 'originate echoed');
  t.is(v.getUint32(12), 1234, 'receive');
  t.is(v.getUint32(16), 1234, 'transmit');
  t.is(icmp.length, 20);
  t.is(h.b.mib.icmp.InType[13], 1);
  t.is(h.b.mib.icmp.OutType[14], 1);
  toB(h, ip4Packet({ src: h.a4, dst: h.b4, proto: 1, payload: icmp4Msg(13, 0, 0, new Uint8Array(2)) }));
  t.is(h.b.mib.icmp.InErrors, 1, 'too short');
});
