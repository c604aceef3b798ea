// IPv4 receive and output (net/ipv4/ip-input.ts, ip-output.ts): ping across the veth pair with
// the reply read field by field, every malformed-header class dropped and counted as Linux counts
// it, link padding trimmed, fragments dropped, options checked, protocol unreachable, datagrams
// not for us, DF over the MTU.
import test from 'ava';
import {
  MAC_A, MAC_B, capture, ethFrame, icmp4Msg, inject, ip4Packet, recordDrops, twoHosts, type TwoHosts,
} from './support/topology.ts';
import { csum_fold, csum_partial, ip_fast_csum } from '../../net/core/checksum.ts';
import { MAX_HEADER, alloc_skb, skb_put, skb_reserve } from '../../net/core/skbuff.ts';
import { inet_pton4 } from '../../net/core/inet-addr.ts';
import { ip_build_and_send_pkt } from '../../net/ipv4/ip-output.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { inet_protos } from '../../net/ipv4/protocol.ts';
import { Prandom } from '../../net/core/random.ts';

const ETH_P_IP = 0x0800;
const DATA = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]);

/** Sends a hand-built IPv4 packet from a's MAC into b's device and runs the wire. */
function toB(t: TwoHosts, ip: Uint8Array, dst = MAC_B): void {
  inject(t.devb, ethFrame(dst, MAC_A, ETH_P_IP, ip));
  t.pump();
}

function echo(t: TwoHosts, over: Partial<Parameters<typeof ip4Packet>[0]> = {}): Uint8Array {
  return ip4Packet({ src: t.a4, dst: t.b4, proto: 1, payload: icmp4Msg(8, 0, 0x12340001, DATA), ...over });
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

test('ping across the veth pair: the echo reply, field by field', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  toB(h, echo(h));
  const rx = seen.filter((f) => !f.outgoing);
  t.is(rx.length, 1);
  const f = rx[0]!.bytes;
  // Ethernet: to a's MAC, from b's, IPv4.
  t.deepEqual([...f.subarray(0, 6)], [...MAC_A]);
  t.deepEqual([...f.subarray(6, 12)], [...MAC_B]);
  t.is(u16(f, 12), ETH_P_IP);
  const ip = f.subarray(14);
  t.is(ip[0], 0x45, 'version 4, ihl 5');
  t.is(ip[1], 0, 'tos copied from the request (0)');
  t.is(u16(ip, 2), 20 + 8 + DATA.length, 'tot_len');
  t.is(u16(ip, 6), 0, 'no DF, no fragment (the ICMP socket does no PMTU discovery)');
  t.is(ip[8], 64, 'ttl: ip_default_ttl');
  t.is(ip[9], 1, 'protocol ICMP');
  t.is(ip_fast_csum(ip, 0, 5), 0, 'header checksum verifies');
  t.is(u32(ip, 12), h.b4);
  t.is(u32(ip, 16), h.a4);
  const icmp = ip.subarray(20);
  t.is(icmp[0], 0, 'echo reply');
  t.is(icmp[1], 0);
  t.is(csum_fold(csum_partial(icmp, 0, icmp.length, 0)), 0, 'ICMP checksum verifies');
  // Only the type changed (8 -> 0), so the checksum moves by exactly 0x0800.
  const req = icmp4Msg(8, 0, 0x12340001, DATA);
  t.is(u16(icmp, 2), (u16(req, 2) + 0x0800) % 0xffff);
  t.is(u32(icmp, 4), 0x12340001, 'identifier and sequence echoed');
  t.deepEqual([...icmp.subarray(8)], [...DATA], 'data echoed');
  t.is(h.b.mib.icmp.InEchos, 1);
  t.is(h.b.mib.icmp.OutEchoReps, 1);
  t.is(h.b.mib.icmp.InType[8], 1);
  t.is(h.b.mib.icmp.OutType[0], 1);
  t.is(h.b.mib.ip.InReceives, 1);
  t.is(h.b.mib.ip.InDelivers, 1);
  t.is(h.b.mib.ip.OutRequests, 1);
  t.is(h.b.mib.ip.OutTransmits, 1);
  t.is(h.b.mib.ipext.InOctets, 36);
  t.is(h.a.mib.icmp.InEchoReps, 1);
});

test('ping from the stack: ip_build_and_send_pkt resolves, sends, and the reply comes back', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  const skb = alloc_skb(MAX_HEADER + 16);
  skb_reserve(skb, MAX_HEADER);
  const o = skb_put(skb, 16);
  skb.head.set(icmp4Msg(8, 0, 0x00070003, DATA), o);
  t.is(ip_build_and_send_pkt(skb, h.a, null, 0, h.b4, 1), 0);
  h.pump();
  const ipOut = seen.filter((f) => f.outgoing && u16(f.bytes, 12) === ETH_P_IP);
  t.is(ipOut.length, 1);
  const ip = ipOut[0]!.bytes.subarray(14);
  t.is(u32(ip, 12), h.a4, 'saddr filled from the route');
  t.not(u16(ip, 4), 0, 'a datagram without DF gets an ID from __ip_select_ident');
  t.is(h.a.mib.icmp.InEchoReps, 1);
  t.is(h.a.mib.ip.OutRequests, 1);
});

test('every malformed header class is dropped and counted by its reason', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const rec = recordDrops();
  try {
    const m = h.b.mib;
    const cases: [string, Uint8Array, string, () => number][] = [
      ['shorter than a header', echo(h).subarray(0, 19), 'IP_INHDR', () => m.ip.InHdrErrors],
      ['version 6 in an IPv4 frame', echo(h, { version: 6 }), 'IP_INHDR', () => m.ip.InHdrErrors],
      ['ihl 4', echo(h, { ihl: 4 }), 'IP_INHDR', () => m.ip.InHdrErrors],
      ['ihl past the data', echo(h, { ihl: 15 }).subarray(0, 40), 'IP_INHDR', () => m.ip.InHdrErrors],
      ['bad header checksum', echo(h, { csum: 0x1111 }), 'IP_CSUM', () => m.ipext.InCsumErrors],
      ['tot_len beyond what arrived', echo(h, { tot_len: 200 }), 'PKT_TOO_SMALL', () => m.ipext.InTruncatedPkts],
      ['tot_len shorter than the header', echo(h, { tot_len: 16 }), 'IP_INHDR', () => m.ip.InHdrErrors],
    ];
    let received = 0;
    for (const [name, pkt, reason, counter] of cases) {
      const before = counter();
      const hdrBefore = m.ip.InHdrErrors;
      rec.drops.length = 0;
      toB(h, pkt);
      received++;
      t.deepEqual(rec.drops, [reason], name);
      t.is(counter(), before + 1, name);
      if (reason === 'IP_CSUM') t.is(m.ip.InHdrErrors, hdrBefore + 1, 'a checksum error is also a header error');
      t.is(m.ip.InReceives, received, `${name}: counted as received`);
    }
    t.is(m.ip.InDelivers, 0);
    t.is(m.icmp.OutMsgs, 0, 'no ICMP about a broken header');
  } finally {
    rec.stop();
  }
});

test('a frame for another MAC is dropped before it counts as received', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const rec = recordDrops();
  try {
    toB(h, echo(h), new Uint8Array([0x02, 0, 0, 0, 0, 0x99]));
    t.deepEqual(rec.drops, ['OTHERHOST']);
    t.is(h.b.mib.ip.InReceives, 0);
  } finally {
    rec.stop();
  }
});

test('link-layer padding is trimmed to tot_len before delivery', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  const pkt = echo(h);
  const padded = new Uint8Array(46);
  padded.set(pkt);
  padded.fill(0xaa, pkt.length);
  toB(h, padded);
  const rx = seen.filter((f) => !f.outgoing);
  t.is(rx.length, 1);
  t.is(u16(rx[0]!.bytes, 14 + 2), pkt.length, 'the reply echoes the datagram, not the padding');
  t.is(h.b.mib.ipext.InOctets, 46, 'InOctets counts what arrived');
});

test('fragments are dropped and counted: no reassembly', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const rec = recordDrops();
  try {
    toB(h, echo(h, { frag: 0x2000 }));
    toB(h, echo(h, { frag: 0x0010 }));
    toB(h, echo(h, { frag: 0x4000 }));
    t.deepEqual(rec.drops.filter((d) => d !== 'NO_SOCKET'), ['IP_FRAGMENT', 'IP_FRAGMENT']);
    t.is(h.b.mib.ip.ReasmReqds, 2);
    t.is(h.b.mib.ip.ReasmFails, 2);
    t.is(h.b.mib.icmp.InEchos, 1, 'DF alone is no fragment');
  } finally {
    rec.stop();
  }
});

test('an unknown protocol gets ICMP protocol unreachable quoting the datagram', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  const rec = recordDrops();
  try {
    const pkt = ip4Packet({ src: h.a4, dst: h.b4, proto: 253, payload: DATA });
    toB(h, pkt);
    t.true(rec.drops.includes('IP_NOPROTO'));
    t.is(h.b.mib.ip.InUnknownProtos, 1);
    t.is(h.b.mib.ip.InDelivers, 0);
    t.is(h.b.mib.icmp.OutDestUnreachs, 1);
    const rx = seen.filter((f) => !f.outgoing);
    t.is(rx.length, 1);
    const ip = rx[0]!.bytes.subarray(14);
    t.is(ip[1], 0xc0, 'errors go with precedence internetwork control');
    t.is(u32(ip, 12), h.b4, 'from the address the datagram was for');
    const icmp = ip.subarray(20);
    t.is(icmp[0], 3);
    t.is(icmp[1], 2, 'ICMP_PROT_UNREACH');
    t.is(csum_fold(csum_partial(icmp, 0, icmp.length, 0)), 0);
    t.deepEqual([...icmp.subarray(8)], [...pkt], 'the whole datagram quoted');
    t.is(h.a.mib.icmp.InDestUnreachs, 1);
  } finally {
    rec.stop();
  }
});

test('a datagram not for us is an address error with forwarding off; martians are dropped', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const rec = recordDrops();
  try {
    toB(h, echo(h, { dst: inet_pton4('10.0.0.99') }));
    t.deepEqual(rec.drops, ['IP_INADDRERRORS']);
    t.is(h.b.mib.ip.InAddrErrors, 1);
    rec.drops.length = 0;
    toB(h, echo(h, { dst: inet_pton4('192.168.7.7') }));
    t.is(h.b.mib.ip.InAddrErrors, 2, 'no route: the same with forwarding off');
    rec.drops.length = 0;
    toB(h, echo(h, { src: h.b4 }));
    t.deepEqual(rec.drops, ['NOT_SPECIFIED'], 'our own address as the source on a wire: martian');
    toB(h, echo(h, { src: inet_pton4('127.0.0.1') }));
    toB(h, echo(h, { dst: inet_pton4('127.0.0.1') }));
    toB(h, echo(h, { src: inet_pton4('224.0.0.5') }));
    t.is(h.b.mib.icmp.InEchos, 0);
    t.is(h.b.mib.icmp.OutMsgs, 0);
  } finally {
    rec.stop();
  }
});

test('a broadcast echo is ignored (icmp_echo_ignore_broadcasts) until the sysctl allows it', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const rec = recordDrops();
  try {
    toB(h, echo(h, { dst: inet_pton4('10.0.0.255') }), new Uint8Array(6).fill(0xff));
    t.deepEqual(rec.drops, ['INVALID_PROTO']);
    t.is(h.b.mib.icmp.InErrors, 1);
    t.is(h.b.mib.icmp.OutEchoReps, 0);
    t.is(h.b.mib.ipext.InBcastPkts, 1);
    h.b.ipv4.sysctl_icmp_echo_ignore_broadcasts = 0;
    toB(h, echo(h, { dst: 0xffffffff }), new Uint8Array(6).fill(0xff));
    t.is(h.b.mib.icmp.OutEchoReps, 1, 'answered from the device address once allowed');
  } finally {
    rec.stop();
  }
});

test('icmp_echo_ignore_all silences echo', (t) => {
  const h = twoHosts({ staticNeigh: true });
  h.b.ipv4.sysctl_icmp_echo_ignore_all = 1;
  toB(h, echo(h));
  t.is(h.b.mib.icmp.InEchos, 1);
  t.is(h.b.mib.icmp.OutEchoReps, 0);
});

test('options: well-formed ones pass, a bad length is a header error with a parameter problem, source routes are refused', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  const rec = recordDrops();
  try {
    // NOP NOP, then record route with room for one address: fine.
    toB(h, echo(h, { options: new Uint8Array([1, 7, 7, 4, 0, 0, 0, 0]) }));
    t.is(h.b.mib.icmp.InEchos, 1);
    // An option whose length runs past the header.
    rec.drops.length = 0;
    seen.length = 0;
    toB(h, echo(h, { options: new Uint8Array([1, 7, 9, 4]) }));
    t.deepEqual(rec.drops.filter((d) => d !== 'NO_SOCKET'), ['IP_INHDR']);
    t.is(h.b.mib.ip.InHdrErrors, 1);
    const err = seen.filter((f) => !f.outgoing)[0]!.bytes.subarray(14 + 20);
    t.is(err[0], 12, 'parameter problem');
    t.is(err[4], 21, 'pointing at the offending option (offset from the IP header)');
    // A length of 1.
    toB(h, echo(h, { options: new Uint8Array([0x44, 1, 0, 0]) }));
    t.is(h.b.mib.ip.InHdrErrors, 2);
    // Loose source route: valid, but accept_source_route is 0.
    rec.drops.length = 0;
    toB(h, echo(h, { options: new Uint8Array([131, 7, 4, 10, 0, 0, 9, 0]) }));
    t.deepEqual(rec.drops, ['NOT_SPECIFIED']);
    t.is(h.b.mib.ip.InHdrErrors, 2, 'not a header error');
    t.is(h.b.mib.icmp.InEchos, 1);
  } finally {
    rec.stop();
  }
});

test('a bad ICMP checksum is counted as Icmp InCsumErrors', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const rec = recordDrops();
  try {
    const msg = icmp4Msg(8, 0, 1, DATA);
    msg[2] = msg[2]! ^ 0xff;
    toB(h, ip4Packet({ src: h.a4, dst: h.b4, proto: 1, payload: msg }));
    t.deepEqual(rec.drops, ['ICMP_CSUM']);
    t.is(h.b.mib.icmp.InCsumErrors, 1);
    t.is(h.b.mib.icmp.InErrors, 1);
    t.is(h.b.mib.icmp.InMsgs, 1);
    t.is(h.b.mib.ip.InDelivers, 1, 'IP delivered it; ICMP dropped it');
  } finally {
    rec.stop();
  }
});

test('output: DF over the MTU is -EMSGSIZE (FragFails); TTL and DF from the options', (t) => {
  const h = twoHosts({ staticNeigh: true, mtu: 600 });
  const seen = capture(h.a);
  const big = alloc_skb(MAX_HEADER + 700);
  skb_reserve(big, MAX_HEADER);
  skb_put(big, 700);
  t.is(ip_build_and_send_pkt(big, h.a, null, h.a4, h.b4, 253, { df: true }), -90);
  t.is(h.a.mib.ip.FragFails, 1);
  const ok = alloc_skb(MAX_HEADER + 8);
  skb_reserve(ok, MAX_HEADER);
  skb_put(ok, 8);
  t.is(ip_build_and_send_pkt(ok, h.a, null, h.a4, h.b4, 253, { df: true, ttl: 7, tos: 0x10 }), 0);
  const ip = seen.filter((f) => f.outgoing && f.dev === 'veth0')[0]!.bytes.subarray(14);
  t.is(u16(ip, 6), 0x4000, 'DF');
  t.is(u16(ip, 4), 0, 'a DF datagram of no connected socket carries ID 0');
  t.is(ip[8], 7);
  t.is(ip[1], 0x10);
  t.is(ERRNO.ENETUNREACH, 101);
});

test('a DF datagram over the MTU tells its sender (ourselves) fragmentation needed, with the MTU', (t) => {
  const h = twoHosts({ staticNeigh: true, mtu: 600 });
  const got: [number, number, number][] = [];
  inet_protos[253] = { handler: () => 0, err_handler: (_skb, type, code, info) => (got.push([type, code, info]), 0) };
  try {
    const big = alloc_skb(MAX_HEADER + 700);
    skb_reserve(big, MAX_HEADER);
    skb_put(big, 700);
    t.is(ip_build_and_send_pkt(big, h.a, null, h.a4, h.b4, 253, { df: true }), -90);
    h.pump();
    t.deepEqual(got, [[3, 4, 600]]);
    const nodf = alloc_skb(MAX_HEADER + 700);
    skb_reserve(nodf, MAX_HEADER);
    skb_put(nodf, 700);
    t.is(ip_build_and_send_pkt(nodf, h.a, null, h.a4, h.b4, 253), -90, 'no fragmentation here: refused too');
    h.pump();
    t.is(got.length, 1, 'but without an ICMP');
    t.is(h.a.mib.ip.FragFails, 2);
  } finally {
    inet_protos[253] = undefined;
  }
});

test('fuzz: mutated and truncated frames of every kind never throw', (t) => {
  const h = twoHosts();
  const rnd = new Prandom(7);
  const r = (n: number): number => rnd.get_random_u32_below(n);
  const seeds: [number, Uint8Array][] = [
    [ETH_P_IP, echo(h)],
    [ETH_P_IP, echo(h, { options: new Uint8Array([1, 7, 7, 4, 0, 0, 0, 0]) })],
    [ETH_P_IP, ip4Packet({ src: h.a4, dst: h.b4, proto: 1, payload: icmp4Msg(3, 3, 0, echo(h)) })],
    [ETH_P_IP, ip4Packet({ src: h.a4, dst: h.b4, proto: 17, payload: new Uint8Array(20) })],
    [ETH_P_IP, ip4Packet({ src: h.a4, dst: h.b4, proto: 6, payload: new Uint8Array(40) })],
    [0x0806, new Uint8Array([0, 1, 8, 0, 6, 4, 0, 1, ...MAC_A, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2])],
  ];
  for (let i = 0; i < 3000; i++) {
    const [type, base] = seeds[r(seeds.length)]!;
    const p = base.slice(0, r(4) === 0 ? r(base.length + 1) : base.length);
    const flips = 1 + r(4);
    for (let k = 0; k < flips && p.length > 0; k++) p[r(p.length)] = r(256);
    inject(h.devb, ethFrame(r(8) === 0 ? new Uint8Array(6).fill(0xff) : MAC_B, MAC_A, type, p));
    t.notThrows(() => h.pump());
  }
  h.advance(5000);
  t.true(h.b.mib.ip.InReceives > 0);
});
