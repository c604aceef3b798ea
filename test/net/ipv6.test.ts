// IPv6 receive and output (net/ipv6/ip6-input.ts, exthdrs.ts, ip6-output.ts): ping6 across the
// veth pair with the reply read field by field, malformed headers dropped and counted, extension
// headers skipped or refused as Linux does, fragments dropped, unknown next header, not for us.
import test from 'ava';
import {
  MAC_A, MAC_B, capture, ethFrame, icmp6Msg, inject, ip6Packet, recordDrops, twoHosts, type TwoHosts,
} from './support/topology.ts';
import { csum_ipv6_magic, csum_partial } from '../../net/core/checksum.ts';
import { MAX_HEADER, alloc_skb, skb_put, skb_reserve } from '../../net/core/skbuff.ts';
import { inet_pton6 } from '../../net/core/inet-addr.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';
import { ip6_build_and_send_pkt } from '../../net/ipv6/ip6-output.ts';
import { Prandom } from '../../net/core/random.ts';

const ETH_P_IPV6 = 0x86dd;
const DATA = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);

function toB(h: TwoHosts, pkt: Uint8Array, dst = MAC_B): void {
  inject(h.devb, ethFrame(dst, MAC_A, ETH_P_IPV6, pkt));
  h.pump();
}

function echo6(h: TwoHosts, o: Partial<Parameters<typeof ip6Packet>[0]> = {}): Uint8Array {
  return ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 58, payload: icmp6Msg(128, 0, 0xabcd0001, DATA, h.a6, h.b6), ...o });
}

/** An echo request behind extension headers: ext is the raw header chain, first names next. */
function echoBehind(h: TwoHosts, first: number, ext: Uint8Array): Uint8Array {
  const icmp = icmp6Msg(128, 0, 0xabcd0002, DATA, h.a6, h.b6);
  const payload = new Uint8Array(ext.length + icmp.length);
  payload.set(ext);
  payload.set(icmp, ext.length);
  return ip6Packet({ src: h.a6, dst: h.b6, nexthdr: first, payload });
}

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function addr(b: Uint8Array, o: number): In6Addr {
  return new In6Addr().read(b, o);
}

test('ping6 across the veth pair: the echo reply, field by field', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  toB(h, echo6(h, { tclass: 0x20 }));
  const rx = seen.filter((f) => !f.outgoing);
  t.is(rx.length, 1);
  const f = rx[0]!.bytes;
  t.deepEqual([...f.subarray(0, 6)], [...MAC_A]);
  t.deepEqual([...f.subarray(6, 12)], [...MAC_B]);
  t.is(u16(f, 12), ETH_P_IPV6);
  const ip = f.subarray(14);
  t.is(ip[0]! >>> 4, 6, 'version');
  t.is(((ip[0]! & 0xf) << 4) | (ip[1]! >>> 4), 0x20, 'traffic class from the request');
  t.is(u16(ip, 4), 8 + DATA.length, 'payload length');
  t.is(ip[6], 58, 'next header ICMPv6');
  t.is(ip[7], 64, 'hop limit: the default');
  t.deepEqual(addr(ip, 8), h.b6);
  t.deepEqual(addr(ip, 24), h.a6);
  const icmp = ip.subarray(40);
  t.is(icmp[0], 129, 'echo reply');
  t.is(icmp[1], 0);
  t.is(csum_ipv6_magic(h.b6, h.a6, icmp.length, 58, csum_partial(icmp, 0, icmp.length, 0)), 0, 'checksum over the pseudo-header');
  t.is(new DataView(icmp.buffer, icmp.byteOffset).getUint32(4), 0xabcd0001, 'identifier and sequence echoed');
  t.deepEqual([...icmp.subarray(8)], [...DATA]);
  const m = h.b.mib.ipv6;
  t.is(m.Ip6InReceives, 1);
  t.is(m.Ip6InDelivers, 1);
  t.is(m.Icmp6InEchos, 1);
  t.is(m.Icmp6OutEchoReplies, 1);
  t.is(m.Ip6OutRequests, 1);
  t.is(h.a.mib.ipv6.Icmp6InEchoReplies, 1);
});

test('ping6 from the stack, with neighbour discovery first', (t) => {
  const h = twoHosts();
  const skb = alloc_skb(MAX_HEADER + 16);
  skb_reserve(skb, MAX_HEADER);
  skb.head.set(icmp6Msg(128, 0, 1, DATA, h.a6, h.b6), skb_put(skb, 16));
  t.is(ip6_build_and_send_pkt(skb, h.a, null, new In6Addr(), h.b6, 58), 0, 'saddr :: is filled (and the checksum was over fd00::1)');
  h.pump();
  t.is(h.a.mib.ipv6.Icmp6InEchoReplies, 1);
  t.is(h.a.mib.ipv6.Icmp6OutNeighborSolicits, 1);
});

test('malformed IPv6 headers are dropped and counted by reason', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const rec = recordDrops();
  try {
    const m = h.b.mib.ipv6;
    const mcSrc = echo6(h);
    mcSrc[8] = 0xff;
    const loDst = echo6(h, { dst: inet_pton6('::1') });
    const loSrc = echo6(h, { src: inet_pton6('::1') });
    const mcScope0 = echo6(h, { dst: inet_pton6('ff00::1') });
    const mcScope1 = echo6(h, { dst: inet_pton6('ff01::1') });
    const cases: [string, Uint8Array, string, () => number][] = [
      ['shorter than a header', echo6(h).subarray(0, 39), 'IP_INHDR', () => m.Ip6InHdrErrors],
      ['version 4', echo6(h, { version: 4 }), 'UNHANDLED_PROTO', () => m.Ip6InHdrErrors],
      ['payload length past the data', echo6(h, { plen: 100 }), 'PKT_TOO_SMALL', () => m.Ip6InTruncatedPkts],
      ['multicast source', mcSrc, 'IP_INHDR', () => m.Ip6InHdrErrors],
      ['::1 destination on a wire', loDst, 'IP_INHDR', () => m.Ip6InHdrErrors],
      ['::1 source on a wire', loSrc, 'IP_INHDR', () => m.Ip6InHdrErrors],
      ['multicast scope 0', mcScope0, 'IP_INHDR', () => m.Ip6InHdrErrors],
      ['interface-local multicast on a wire', mcScope1, 'IP_INHDR', () => m.Ip6InHdrErrors],
    ];
    let n = 0;
    for (const [name, pkt, reason, counter] of cases) {
      const before = counter();
      rec.drops.length = 0;
      toB(h, pkt);
      n++;
      t.deepEqual(rec.drops, [reason], name);
      t.is(counter(), before + 1, name);
      t.is(m.Ip6InReceives, n);
    }
    t.is(m.Icmp6InEchos, 0);
    const bad = echo6(h);
    bad[42] = bad[42]! ^ 0xff;
    rec.drops.length = 0;
    toB(h, bad);
    t.deepEqual(rec.drops, ['ICMP_CSUM']);
    t.is(m.Icmp6InCsumErrors, 1);
  } finally {
    rec.stop();
  }
});

test('link padding is trimmed to the payload length', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const pkt = echo6(h);
  const padded = new Uint8Array(pkt.length + 10);
  padded.set(pkt);
  toB(h, padded);
  t.is(h.b.mib.ipv6.Icmp6InEchos, 1, 'the checksum verified over the trimmed payload');
  t.is(h.b.mib.ipv6.Icmp6OutEchoReplies, 1);
});

test('hop-by-hop options: padding checked, unknown options by their action bits', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  const rec = recordDrops();
  try {
    const m = h.b.mib.ipv6;
    // next 58, len 0 (8 bytes): PadN of 4 zeros; then an unknown option type 0x1e (skip).
    toB(h, echoBehind(h, 0, new Uint8Array([58, 0, 1, 4, 0, 0, 0, 0])));
    t.is(m.Icmp6InEchos, 1, 'padding only');
    toB(h, echoBehind(h, 0, new Uint8Array([58, 0, 0x1e, 2, 0, 0, 1, 0])));
    t.is(m.Icmp6InEchos, 2, 'unknown option, action 00: skipped');
    rec.drops.length = 0;
    toB(h, echoBehind(h, 0, new Uint8Array([58, 0, 0x5e, 2, 0, 0, 1, 0])));
    t.deepEqual(rec.drops, ['UNHANDLED_PROTO'], 'action 01: dropped silently');
    t.is(m.Ip6InHdrErrors, 1);
    seen.length = 0;
    toB(h, echoBehind(h, 0, new Uint8Array([58, 0, 0x9e, 2, 0, 0, 1, 0])));
    const pp = seen.filter((f) => !f.outgoing)[0]!.bytes.subarray(14 + 40);
    t.is(pp[0], 4, 'action 10: parameter problem');
    t.is(pp[1], 2, 'unrecognized option');
    t.is(new DataView(pp.buffer, pp.byteOffset).getUint32(4), 42, 'pointing at the option');
    t.is(m.Ip6InHdrErrors, 2);
    rec.drops.length = 0;
    toB(h, echoBehind(h, 0, new Uint8Array([58, 0, 1, 4, 0, 9, 0, 0])));
    t.deepEqual(rec.drops, ['IP_INHDR'], 'PadN must be zeros (RFC 4942)');
    rec.drops.length = 0;
    toB(h, echoBehind(h, 0, new Uint8Array([58, 0, 0x1e, 9, 0, 0, 0, 0])));
    t.deepEqual(rec.drops, ['IP_INHDR'], 'an option past the header');
    t.is(m.Ip6InHdrErrors, 4);
    t.is(m.Icmp6InEchos, 2);
  } finally {
    rec.stop();
  }
});

test('destination options and a spent routing header are skipped; segments left is refused', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  const m = h.b.mib.ipv6;
  toB(h, echoBehind(h, 60, new Uint8Array([58, 0, 1, 4, 0, 0, 0, 0])));
  t.is(m.Icmp6InEchos, 1, 'destination options');
  // Routing header type 0, hdrlen 2 (one address), segments left 0: we are its last hop.
  const rh = new Uint8Array(24);
  rh.set([58, 2, 0, 0]);
  toB(h, echoBehind(h, 43, rh));
  t.is(m.Icmp6InEchos, 2, 'segments left 0');
  rh[3] = 1;
  seen.length = 0;
  toB(h, echoBehind(h, 43, rh));
  t.is(m.Icmp6InEchos, 2);
  t.is(m.Ip6InHdrErrors, 1);
  const pp = seen.filter((f) => !f.outgoing)[0]!.bytes.subarray(14 + 40);
  t.is(pp[0], 4);
  t.is(pp[1], 0, 'erroneous header field');
  t.is(new DataView(pp.buffer, pp.byteOffset).getUint32(4), 42, 'the routing type');
  // Destination options then an unknown next header.
  seen.length = 0;
  const icmp = icmp6Msg(128, 0, 1, DATA, h.a6, h.b6);
  const p = new Uint8Array(8 + icmp.length);
  p.set([253, 0, 1, 4, 0, 0, 0, 0]);
  p.set(icmp, 8);
  toB(h, ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 60, payload: p }));
  t.is(m.Ip6InUnknownProtos, 1);
  const un = seen.filter((f) => !f.outgoing)[0]!.bytes.subarray(14 + 40);
  t.is(un[1], 1, 'unknown next header');
  t.is(new DataView(un.buffer, un.byteOffset).getUint32(4), 40, 'pointing at the byte that named it');
});

test('fragments are dropped and counted; an atomic fragment is delivered', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const rec = recordDrops();
  try {
    const m = h.b.mib.ipv6;
    toB(h, echoBehind(h, 44, new Uint8Array([58, 0, 0, 1, 0, 0, 0, 7])));
    toB(h, echoBehind(h, 44, new Uint8Array([58, 0, 0, 0x10, 0, 0, 0, 7])));
    t.deepEqual(rec.drops, ['IP_FRAGMENT', 'IP_FRAGMENT']);
    t.is(m.Ip6ReasmReqds, 2);
    t.is(m.Ip6ReasmFails, 2);
    toB(h, echoBehind(h, 44, new Uint8Array([58, 0, 0, 0, 0, 0, 0, 7])));
    t.is(m.Icmp6InEchos, 1, 'offset 0 without M: no fragment');
    t.is(m.Ip6ReasmReqds, 3);
  } finally {
    rec.stop();
  }
});

test('an unknown next header gets a parameter problem; not-for-us and no-route are counted', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const seen = capture(h.a);
  const rec = recordDrops();
  try {
    const m = h.b.mib.ipv6;
    toB(h, ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 253, payload: DATA }));
    t.deepEqual(rec.drops, ['IP_NOPROTO']);
    t.is(m.Ip6InUnknownProtos, 1);
    const pp = seen.filter((f) => !f.outgoing)[0]!.bytes.subarray(14 + 40);
    t.deepEqual([pp[0], pp[1]], [4, 1]);
    t.is(new DataView(pp.buffer, pp.byteOffset).getUint32(4), 6);
    rec.drops.length = 0;
    toB(h, echo6(h, { dst: inet_pton6('fd00::99') }));
    t.deepEqual(rec.drops, ['IP_INADDRERRORS']);
    t.is(m.Ip6InAddrErrors, 1);
    rec.drops.length = 0;
    seen.length = 0;
    toB(h, echo6(h, { dst: inet_pton6('2001:db8::1') }));
    t.deepEqual(rec.drops, ['IP_INNOROUTES']);
    t.is(m.Ip6InNoRoutes, 1);
    const du = seen.filter((f) => !f.outgoing)[0]!.bytes.subarray(14 + 40);
    t.deepEqual([du[0], du[1]], [1, 0], 'destination unreachable, no route');
    const mc = echo6(h, { dst: inet_pton6('ff02::1:ff00:99') });
    rec.drops.length = 0;
    toB(h, mc, new Uint8Array([0x33, 0x33, 0xff, 0, 0, 0x99]));
    t.deepEqual(rec.drops, ['NOT_SPECIFIED'], 'a group we have not joined');
  } finally {
    rec.stop();
  }
});

test('fuzz: mutated and truncated IPv6 frames never throw', (t) => {
  const h = twoHosts();
  const rnd = new Prandom(11);
  const r = (n: number): number => rnd.get_random_u32_below(n);
  const sn = inet_pton6('ff02::1:ff00:2');
  const nsBody = new Uint8Array(24);
  nsBody.set(ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 59, payload: new Uint8Array(0) }).subarray(24, 40), 0);
  nsBody.set([1, 1, ...MAC_A], 16);
  const seeds: Uint8Array[] = [
    echo6(h),
    echoBehind(h, 0, new Uint8Array([58, 0, 1, 4, 0, 0, 0, 0])),
    echoBehind(h, 60, new Uint8Array([58, 0, 0x9e, 2, 0, 0, 1, 0])),
    echoBehind(h, 43, new Uint8Array([58, 2, 0, 1, 0, 0, 0, 0, ...new Uint8Array(16)])),
    echoBehind(h, 44, new Uint8Array([58, 0, 0, 0, 0, 0, 0, 7])),
    ip6Packet({ src: h.a6, dst: sn, nexthdr: 58, hlim: 255, payload: icmp6Msg(135, 0, 0, nsBody, h.a6, sn) }),
    ip6Packet({ src: h.a6, dst: h.b6, nexthdr: 58, payload: icmp6Msg(1, 4, 0, echo6(h), h.a6, h.b6) }),
  ];
  for (let i = 0; i < 3000; i++) {
    const base = seeds[r(seeds.length)]!;
    const p = base.slice(0, r(4) === 0 ? r(base.length + 1) : base.length);
    const flips = 1 + r(4);
    for (let k = 0; k < flips && p.length > 0; k++) p[r(p.length)] = r(256);
    const dst = r(4) === 0 ? new Uint8Array([0x33, 0x33, 0xff, 0, 0, 2]) : MAC_B;
    inject(h.devb, ethFrame(dst, MAC_A, ETH_P_IPV6, p));
    t.notThrows(() => h.pump());
  }
  h.advance(5000);
  t.true(h.b.mib.ipv6.Ip6InReceives > 0);
});
