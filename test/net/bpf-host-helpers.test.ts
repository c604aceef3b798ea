// NetBpfHost's stack-only helpers on a running stack: bpf_tcp_gen_syncookie and
// bpf_tcp_check_syncookie (the stack's own cookie, checked against a real cookie handshake),
// bpf_fib_lookup on the machine's routes and neighbours (IPv4 and IPv6), and the skb helpers that
// reallocate (bpf_skb_change_tail, bpf_skb_pull_data's skb_ensure_writable).
import test from 'ava';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { BPF_FIB_LKUP_RET as RET, BPF_FIB_LOOKUP as FL, BPF_FIB_LOOKUP_PARAMS as FP } from '../../net/core/bpf-fib-lookup.ts';
import { BPF_SKB_MAX_LEN, net_bpf_host } from '../../net/core/filter.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { alloc_skb, skb_clone, skb_put, skb_reserve } from '../../net/core/skbuff.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { RTN } from '../../net/ipv4/route.ts';
import { fib_table_insert, ip_route_add } from '../../net/ipv4/route.ts';
import { __in6_dev_get } from '../../net/ipv6/addrconf.ts';
import { MAC_A, MAC_B, capture } from './support/topology.ts';
import { sa4, sock, victim } from './support/frames.ts';

const E = ERRNO;

function iph4(saddr: number, daddr: number): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  b[0] = 0x45;
  b[9] = 6;
  v.setUint32(12, saddr);
  v.setUint32(16, daddr);
  return b;
}

function iph6(saddr: string, daddr: string): Uint8Array {
  const b = new Uint8Array(40);
  const v = new DataView(b.buffer);
  b[0] = 0x60;
  b[6] = 6;
  const s = inet_pton6(saddr), d = inet_pton6(daddr);
  [s.w0, s.w1, s.w2, s.w3, d.w0, d.w1, d.w2, d.w3].forEach((w, i) => v.setUint32(8 + 4 * i, w));
  return b;
}

/** A TCP header with an MSS option (24 bytes, doff 6). */
function th(o: { sport?: number; dport?: number; seq?: number; ack?: number; flags: number; mss?: number; doff?: number }): Uint8Array {
  const b = new Uint8Array(24);
  const v = new DataView(b.buffer);
  v.setUint16(0, o.sport ?? 40000);
  v.setUint16(2, o.dport ?? 80);
  v.setUint32(4, o.seq ?? 1000);
  v.setUint32(8, o.ack ?? 0);
  b[12] = (o.doff ?? 6) << 4;
  b[13] = o.flags;
  v.setUint16(14, 65535);
  b.set([2, 4, (o.mss ?? 1460) >> 8, (o.mss ?? 1460) & 0xff], 20);
  return b;
}
const SYN = 0x02, ACK = 0x10, RST = 0x04;

test('bpf_tcp_gen_syncookie / bpf_tcp_check_syncookie: the stack\'s cookie, and every errno', (t) => {
  const v = victim();
  const net = v.t.b;
  const host = net_bpf_host(net);
  const l4 = v.l4.sk, l6 = v.l6.sk;
  const a4 = v.t.a4, b4 = v.t.b4;
  const ip = iph4(a4, b4);
  // tcp_syncookies = 1 and the SYN queue not full: no cookie would be sent now.
  t.is(host.tcp_gen_syncookie(l4, ip, th({ flags: SYN })), BigInt(-E.ENOENT));
  net.ipv4.sysctl_tcp_syncookies = 2;
  const r = host.tcp_gen_syncookie(l4, ip, th({ flags: SYN, seq: 1000, mss: 1460 }));
  t.true(r > 0n);
  t.is(r >> 32n, 1460n, 'the MSS the cookie encodes');
  const cookie = Number(r & 0xffffffffn);
  t.is(host.tcp_gen_syncookie(l4, ip, th({ flags: SYN, seq: 1000, mss: 1400 })) >> 32n, 1300n, 'rounded down to the table');
  t.is(host.tcp_gen_syncookie(l4, ip, th({ flags: SYN, seq: 1000, mss: 1400 })) & 0xffffffffn, BigInt(host.tcp_gen_syncookie(l4, ip, th({ flags: SYN, seq: 1000, mss: 1300 })) & 0xffffffffn));
  // The ACK completing it.
  t.is(host.tcp_check_syncookie(l4, ip, th({ flags: ACK, seq: 1001, ack: (cookie + 1) >>> 0 })), 0);
  t.is(host.tcp_check_syncookie(l4, ip, th({ flags: ACK, seq: 1001, ack: (cookie + 2) >>> 0 })), -E.ENOENT, 'a wrong cookie');
  t.is(host.tcp_check_syncookie(l4, ip, th({ flags: ACK, seq: 1101, ack: (cookie + 1) >>> 0 })), -E.ENOENT, 'another ISN');
  t.is(host.tcp_check_syncookie(l4, ip, th({ flags: ACK | RST, seq: 1001, ack: (cookie + 1) >>> 0 })), -E.ENOENT);
  t.is(host.tcp_check_syncookie(l4, ip, th({ flags: SYN, seq: 1001, ack: (cookie + 1) >>> 0 })), -E.ENOENT);
  const bad = ip.slice();
  bad[0] = 0x55;
  t.is(host.tcp_check_syncookie(l4, bad, th({ flags: ACK })), -E.EPROTONOSUPPORT);
  v.t.advance(3 * 60 * 1000 + 10);
  t.is(host.tcp_check_syncookie(l4, ip, th({ flags: ACK, seq: 1001, ack: (cookie + 1) >>> 0 })), -E.ENOENT, 'too old');

  // Errnos of both, in the kernel's order.
  t.is(host.tcp_gen_syncookie(l4, ip, th({ flags: SYN, doff: 5 })), BigInt(-E.EINVAL), 'th_len != doff * 4');
  t.is(host.tcp_gen_syncookie(v.u4.sk, ip, th({ flags: SYN })), BigInt(-E.EINVAL), 'not TCP');
  t.is(host.tcp_gen_syncookie(l4, ip, th({ flags: SYN | ACK })), BigInt(-E.EINVAL), 'not a pure SYN');
  t.is(host.tcp_gen_syncookie(l4, ip.subarray(0, 19), th({ flags: SYN })), BigInt(-E.EINVAL), 'short IP header');
  t.is(host.tcp_gen_syncookie(l4, bad, th({ flags: SYN })), BigInt(-E.EPROTONOSUPPORT));
  t.is(host.tcp_gen_syncookie(l6, ip, th({ flags: SYN })), BigInt(-E.EINVAL), 'a v6-only listener and an IPv4 SYN');
  t.is(host.tcp_gen_syncookie(l4, iph6('fd00::1', 'fd00::2'), th({ flags: SYN })), BigInt(-E.EINVAL), 'an AF_INET listener and an IPv6 SYN');
  const r6 = host.tcp_gen_syncookie(l6, iph6('fd00::1', 'fd00::2'), th({ flags: SYN, seq: 7, mss: 1440 }));
  t.is(r6 >> 32n, 1440n);
  t.is(host.tcp_check_syncookie(l6, iph6('fd00::1', 'fd00::2'), th({ flags: ACK, seq: 8, ack: Number((r6 + 1n) & 0xffffffffn) })), 0);
  t.is(host.tcp_check_syncookie(l4, ip, th({ flags: ACK }).subarray(0, 19)), -E.EINVAL);
  net.ipv4.sysctl_tcp_syncookies = 0;
  t.is(host.tcp_gen_syncookie(l4, ip, th({ flags: SYN })), BigInt(-E.ENOENT), 'sysctl off: gen ENOENT');
  t.is(host.tcp_check_syncookie(l4, ip, th({ flags: ACK })), -E.EINVAL, 'sysctl off: check EINVAL');
  const { stp } = (() => {
    net.ipv4.sysctl_tcp_syncookies = 1;
    const c = sock(v.t.a, AF_INET, SOCK_STREAM);
    c.connect(sa4(b4, 80));
    v.t.advance(3);
    const s = v.l4.accept();
    if (typeof s === 'number') throw new Error('accept');
    return { stp: s.sk };
  })();
  t.is(host.tcp_check_syncookie(stp, ip, th({ flags: ACK })), -E.EINVAL, 'not a listener');
  v.stop();
});

test('bpf_tcp_gen_syncookie equals the cookie the stack puts in its SYN-ACK, and checks the handshake\'s ACK', (t) => {
  const v = victim();
  const net = v.t.b;
  net.ipv4.sysctl_tcp_syncookies = 2;
  const seen = capture(v.t.a);
  const c = sock(v.t.a, AF_INET, SOCK_STREAM);
  c.connect(sa4(v.t.b4, 80));
  v.t.advance(3);
  t.is(typeof v.l4.accept(), 'object', 'the cookie handshake completed');
  const tcp = seen.filter((f) => f.bytes[23] === 6);
  const syn = tcp.find((f) => f.outgoing && (f.bytes[14 + 20 + 13]! & 0x12) === SYN)!;
  const synack = tcp.find((f) => !f.outgoing && (f.bytes[14 + 20 + 13]! & 0x12) === 0x12)!;
  const ack = tcp.find((f) => f.outgoing && f.bytes[14 + 20 + 13] === ACK)!;
  const hdr = (f: { bytes: Uint8Array }): [Uint8Array, Uint8Array] => {
    const doff = (f.bytes[14 + 20 + 12]! >> 4) * 4;
    return [f.bytes.subarray(14, 34), f.bytes.subarray(34, 34 + doff)];
  };
  const host = net_bpf_host(net);
  const [sip, sth] = hdr(syn);
  const r = host.tcp_gen_syncookie(v.l4.sk, sip, sth);
  const isn = new DataView(synack.bytes.buffer, synack.bytes.byteOffset).getUint32(34 + 4);
  t.is(Number(r & 0xffffffffn), isn, 'the SYN-ACK\'s ISN');
  const [aip, ath] = hdr(ack);
  t.is(host.tcp_check_syncookie(v.l4.sk, aip, ath), 0);
  v.stop();
});

function params(family: number, ifindex: number, dst: string, tot_len = 0): Uint8Array {
  const p = new Uint8Array(64);
  const v = new DataView(p.buffer);
  p[FP.family] = family;
  v.setUint32(FP.ifindex, ifindex, true);
  v.setUint16(FP.tot_len, tot_len, true);
  if (family !== AF_INET6) v.setUint32(FP.ipv4_dst, inet_pton4(dst));
  else {
    const a = inet_pton6(dst);
    [a.w0, a.w1, a.w2, a.w3].forEach((w, i) => v.setUint32(FP.ipv6_dst + 4 * i, w));
  }
  return p;
}

test('bpf_fib_lookup: the machine\'s routes and neighbours, every return code, IPv4 and IPv6', (t) => {
  const v = victim();
  const net = v.t.a;
  const host = net_bpf_host(net);
  const dev = v.t.deva;
  const dv = (p: Uint8Array): DataView => new DataView(p.buffer);
  let p = params(AF_INET, dev.ifindex, '10.0.0.2');
  t.is(host.fib_lookup(p, 0, dev.ifindex), RET.BPF_FIB_LKUP_RET_FWD_DISABLED, 'forwarding is off');
  net.ipv4.sysctl_ip_forward = 1;
  t.is(host.fib_lookup(p, 0, dev.ifindex), RET.BPF_FIB_LKUP_RET_SUCCESS);
  t.deepEqual([...p.subarray(FP.dmac, FP.dmac + 6)], [...MAC_B]);
  t.deepEqual([...p.subarray(FP.smac, FP.smac + 6)], [...MAC_A]);
  t.is(dv(p).getUint32(FP.ifindex, true), dev.ifindex);
  t.is(dv(p).getUint16(FP.mtu_result, true), 1500);

  p = params(AF_INET, dev.ifindex, '10.0.0.2');
  t.is(host.fib_lookup(p, FL.BPF_FIB_LOOKUP_SRC | FL.BPF_FIB_LOOKUP_SKIP_NEIGH, 0), RET.BPF_FIB_LKUP_RET_SUCCESS);
  t.is(dv(p).getUint32(FP.ipv4_src), v.t.a4, 'the source the route would use');
  t.deepEqual([...p.subarray(FP.dmac, FP.dmac + 6)], [0, 0, 0, 0, 0, 0], 'SKIP_NEIGH: no MACs');
  t.is(host.fib_lookup(params(AF_INET, dev.ifindex, '10.0.0.2', 1600), 0, 0), RET.BPF_FIB_LKUP_RET_FRAG_NEEDED);
  p = params(AF_INET, dev.ifindex, '10.0.0.2', 1600);
  host.fib_lookup(p, 0, 0);
  t.is(dv(p).getUint16(FP.mtu_result, true), 1500);
  t.is(host.fib_lookup(params(AF_INET, dev.ifindex, '10.0.0.1'), 0, 0), RET.BPF_FIB_LKUP_RET_NOT_FWDED, 'a local address');
  t.is(host.fib_lookup(params(AF_INET, dev.ifindex, '192.0.2.1'), 0, 0), RET.BPF_FIB_LKUP_RET_NOT_FWDED, 'no route');
  t.is(host.fib_lookup(params(AF_INET, dev.ifindex, '10.0.0.77'), 0, 0), RET.BPF_FIB_LKUP_RET_NO_NEIGH);
  t.is(ip_route_add(net, inet_pton4('198.51.100.0'), 24, dev, v.t.b4), 0);
  p = params(AF_INET, dev.ifindex, '198.51.100.9');
  t.is(host.fib_lookup(p, 0, 0), RET.BPF_FIB_LKUP_RET_SUCCESS, 'through the gateway');
  t.is(dv(p).getUint32(FP.ipv4_dst), v.t.b4, 'ipv4_dst becomes the next hop');
  t.deepEqual([...p.subarray(FP.dmac, FP.dmac + 6)], [...MAC_B]);
  t.is(fib_table_insert(net, { dst: inet_pton4('203.0.113.0'), prefixlen: 24, type: RTN.RTN_BLACKHOLE, scope: 0, dev }), 0);
  t.is(host.fib_lookup(params(AF_INET, dev.ifindex, '203.0.113.5'), 0, 0), RET.BPF_FIB_LKUP_RET_BLACKHOLE);
  t.is(host.fib_lookup(params(AF_INET, dev.ifindex, '10.0.0.2'), FL.BPF_FIB_LOOKUP_DIRECT | FL.BPF_FIB_LOOKUP_TBID, 0), RET.BPF_FIB_LKUP_RET_NOT_FWDED, 'TBID 0: no such table');
  t.is(host.fib_lookup(params(AF_INET, dev.ifindex, '10.0.0.2'), FL.BPF_FIB_LOOKUP_DIRECT, 0), RET.BPF_FIB_LKUP_RET_SUCCESS, 'the main table directly');
  t.is(host.fib_lookup(params(AF_INET, 99, '10.0.0.2'), 0, 0), -E.ENODEV);
  t.is(host.fib_lookup(params(0, dev.ifindex, '10.0.0.2'), 0, 0), -E.EAFNOSUPPORT);
  t.is(host.fib_lookup(params(AF_INET, dev.ifindex, '10.0.0.2'), 1 << 6, 0), -E.EINVAL);

  // IPv6
  p = params(AF_INET6, dev.ifindex, 'fd00::2');
  t.is(host.fib_lookup(p, 0, 0), RET.BPF_FIB_LKUP_RET_FWD_DISABLED);
  __in6_dev_get(dev)!.cnf.forwarding = 1;
  t.is(host.fib_lookup(p, FL.BPF_FIB_LOOKUP_SRC, 0), RET.BPF_FIB_LKUP_RET_SUCCESS);
  t.deepEqual([...p.subarray(FP.dmac, FP.dmac + 6)], [...MAC_B]);
  t.is(dv(p).getUint32(FP.ipv6_src + 12), v.t.a6.w3, 'source fd00::1');
  t.is(host.fib_lookup(params(AF_INET6, dev.ifindex, 'fd00::1'), 0, 0), RET.BPF_FIB_LKUP_RET_NOT_FWDED, 'local');
  t.is(host.fib_lookup(params(AF_INET6, dev.ifindex, 'fd00::99'), 0, 0), RET.BPF_FIB_LKUP_RET_NO_NEIGH);
  t.is(host.fib_lookup(params(AF_INET6, dev.ifindex, 'fd00::2', 1501), 0, 0), RET.BPF_FIB_LKUP_RET_FRAG_NEEDED);
  t.is(host.fib_lookup(params(AF_INET6, dev.ifindex, '2001:db8::1'), 0, 0), RET.BPF_FIB_LKUP_RET_NOT_FWDED, 'no route');
  v.stop();
});

test('bpf_skb_change_tail and skb_ensure_writable on net\'s SkBuff', (t) => {
  const v = victim();
  const host = net_bpf_host(v.t.b);
  const skb = alloc_skb(2048);
  skb_reserve(skb, 64);
  const off = skb_put(skb, 100);
  for (let i = 0; i < 100; i++) skb.head[off + i] = i + 1;
  skb.network_header = skb.data;
  skb.transport_header = skb.data + 20;
  t.is(host.skb_change_tail(skb, 150, 0n), 0);
  t.is(skb.len, 150);
  t.deepEqual([...skb.head.subarray(skb.data + 98, skb.data + 102)], [99, 100, 0, 0], 'grown with zeros');
  t.is(host.skb_change_tail(skb, 60, 0n), 0);
  t.is(skb.len, 60);
  t.is(skb.tail - skb.data, 60);
  t.is(host.skb_change_tail(skb, 19, 0n), -E.EINVAL, 'into the parsed transport header');
  t.is(host.skb_change_tail(skb, 100, 1n), -E.EINVAL, 'flags');
  t.is(host.skb_change_tail(skb, BPF_SKB_MAX_LEN + 1, 0n), -E.EINVAL);
  t.is(host.skb_change_tail(skb, 4000, 0n), 0, 'past the buffer: a bigger one');
  t.is(skb.len, 4000);
  t.true(skb.end - skb.data >= 4000);
  t.deepEqual([...skb.head.subarray(skb.data, skb.data + 3)], [1, 2, 3], 'the bytes moved with it');
  t.is(skb.network_header, skb.data);

  const clone = skb_clone(skb);
  t.is(host.skb_ensure_writable(clone, 10), 0);
  clone.head[clone.data] = 0xee;
  t.is(skb.head[skb.data], 1, 'the clone writes its own copy');
  t.is(host.skb_ensure_writable(clone, 5000), -E.ENOMEM, 'longer than the packet');
  v.stop();
});
