// Addresses (parse, format, the v4-mapped view) and the hash functions of the tables: the jhash
// forms against bpf-vm's jhash2 (the kernel's lookup3), byte order as the kernel hashes it, and the
// dual-stack property that :: and ::ffff:a.b.c.d hash like their IPv4 views.
import test from 'ava';
import { jhash1word, jhash2, jhash3words } from '../../bpf-vm/maps/jhash.ts';
import { cpu_to_be16, cpu_to_be32 } from '../../net/core/byteorder.ts';
import { NetError } from '../../net/core/errors.ts';
import { errnoName } from '../../bpf-vm/errno.ts';
import { inet_ntop4, inet_ntop6, inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { In6Addr, IPV6_ADDR_TYPES, in6addr_any, ipv6_addr_type, ipv6_addr_v4mapped } from '../../net/core/in6-addr.ts';
import { reciprocal_scale } from '../../net/core/math.ts';
import { Prandom } from '../../net/core/random.ts';
import { LOOPBACK4_IPV6 } from '../../net/core/socket-constants.ts';
import { ipv6_addr_v4_view } from '../../net/core/sock-common.ts';
import { inet_ehashfn, ipv4_portaddr_hash, ipv6_portaddr_hash } from '../../net/ipv4/inet-hashfn.ts';
import { stack } from './helpers.ts';

test('IPv4 addresses are host-order u32s; inet_pton4 takes dotted quads only', (t) => {
  t.is(inet_pton4('10.0.0.1'), 0x0a000001);
  t.is(inet_pton4('192.168.255.254'), 0xc0a8fffe);
  t.is(inet_pton4('255.255.255.255'), 0xffffffff);
  t.is(inet_ntop4(0xc0a80001), '192.168.0.1');
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.x', '', ' 1.2.3.4']) {
    const err = t.throws(() => inet_pton4(bad), { instanceOf: NetError });
    t.is(err?.code, 'EINVAL', bad);
  }
});

test('IPv6 addresses parse as inet_pton does and print as RFC 5952', (t) => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['fe80::1:2', 'fe80::1:2'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1::', '1::'],
  ];
  for (const [text, printed] of cases) t.is(inet_ntop6(inet_pton6(text)), printed, text);
  const a = inet_pton6('2001:db8::ffff:1');
  t.deepEqual([a.w0, a.w1, a.w2, a.w3], [0x20010db8, 0, 0, 0xffff0001]);
  for (const bad of [':::', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::', '::ffff:1.2.3', '1:2:3:4:5:6:7::8']) {
    t.throws(() => inet_pton6(bad), { instanceOf: NetError }, bad);
  }
  const { IPV6_ADDR_ANY, IPV6_ADDR_MAPPED, IPV6_ADDR_MULTICAST, IPV6_ADDR_LINKLOCAL, IPV6_ADDR_LOOPBACK } = IPV6_ADDR_TYPES;
  t.is(ipv6_addr_type(in6addr_any), IPV6_ADDR_ANY);
  t.is(ipv6_addr_type(inet_pton6('::ffff:1.2.3.4')), IPV6_ADDR_MAPPED);
  t.truthy(ipv6_addr_type(inet_pton6('ff02::1')) & IPV6_ADDR_MULTICAST);
  t.truthy(ipv6_addr_type(inet_pton6('fe80::1')) & IPV6_ADDR_LINKLOCAL);
  t.truthy(ipv6_addr_type(inet_pton6('::1')) & IPV6_ADDR_LOOPBACK);
  t.true(ipv6_addr_v4mapped(inet_pton6('::ffff:0.0.0.0')));
  t.is(ipv6_addr_v4_view(inet_pton6('::ffff:10.1.2.3')), 0x0a010203);
  t.is(ipv6_addr_v4_view(in6addr_any), 0);
  t.is(ipv6_addr_v4_view(inet_pton6('2001:db8::1')), LOOPBACK4_IPV6);
  t.is(errnoName(-98), 'EADDRINUSE');
});

test('jhash_3words (bpf-vm jhash3words, which the socket hashes use) equals jhash2 over the same three words', (t) => {
  const r = new Prandom(42);
  const words = new Uint32Array(3);
  for (let i = 0; i < 2000; i++) {
    for (let k = 0; k < 3; k++) words[k] = r.get_random_u32();
    const iv = r.get_random_u32() | 0;
    t.is(jhash3words(words[0]!, words[1]!, words[2]!, iv), jhash2(words, 0, 3, iv));
  }
});

test('hashes see addresses and the remote port in network byte order, as the kernel does on x86-64', (t) => {
  t.is(cpu_to_be32(0x0a000001), 0x0100000a);
  t.is(cpu_to_be32(0xc0a80001) >>> 0, 0x0100a8c0);
  t.is(cpu_to_be16(80), 0x5000);
  const s = stack();
  const laddr = inet_pton4('10.0.0.1');
  const faddr = inet_pton4('10.0.0.2');
  // __inet_ehashfn: jhash_3words(laddr, faddr, lport << 16 | fport) with the raw __be32/__be16 values.
  t.is(inet_ehashfn(s.net, laddr, 80, faddr, 5000), jhash3words(0x0100000a, 0x0200000a, (80 << 16) | 0x8813, 0x11111111) | 0);
  t.is(ipv4_portaddr_hash(s.net, laddr, 53), jhash1word(0x0100000a, 0) ^ 53);
});

test(':: and ::ffff:a.b.c.d hash to the slots of 0.0.0.0 and a.b.c.d (the dual-stack tables)', (t) => {
  const s = stack({ hash_mix: 0x1234567 });
  t.is(ipv6_portaddr_hash(s.net, in6addr_any, 80), ipv4_portaddr_hash(s.net, 0, 80));
  t.is(ipv6_portaddr_hash(s.net, inet_pton6('::ffff:10.0.0.1'), 80), ipv4_portaddr_hash(s.net, 0x0a000001, 80));
  t.not(ipv6_portaddr_hash(s.net, inet_pton6('2001:db8::1'), 80), ipv4_portaddr_hash(s.net, 0, 80));
  const words = Uint32Array.of(cpu_to_be32(0x20010db8), 0, 0, cpu_to_be32(1));
  t.is(ipv6_portaddr_hash(s.net, inet_pton6('2001:db8::1'), 80), jhash2(words, 0, 4, 0x1234567) ^ 80, 'jhash2 over s6_addr32 as it sits in memory');
  const other = stack({ hash_mix: 7 });
  t.not(ipv4_portaddr_hash(other.net, 0, 80), ipv4_portaddr_hash(s.net, 0, 80), 'net_hash_mix is part of the hash');
  t.is(new In6Addr().set(1, 2, 3, 4).w3, 4);
});

test('reciprocal_scale maps a u32 hash onto [0, n) by multiplication', (t) => {
  t.is(reciprocal_scale(0, 4), 0);
  t.is(reciprocal_scale(0xffffffff, 4), 3);
  t.is(reciprocal_scale(0x80000000, 4), 2);
  t.is(reciprocal_scale(-1, 7), 6, 'an int32 hash counts as its u32 bits');
  t.is(reciprocal_scale(0x40000000, 65535), 16383);
});
