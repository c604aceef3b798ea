// Routing (net/ipv4/route.ts, devinet.ts, net/ipv6/route.ts, addrconf.ts): longest prefix match,
// a gateway as the next hop on the wire, no route (-ENETUNREACH, OutNoRoutes), address types,
// source selection, a bound device with no route, cached routes invalidated by a change.
import test from 'ava';
import { MAC_B, capture, twoHosts } from './support/topology.ts';
import { MAX_HEADER, alloc_skb, skb_put, skb_reserve } from '../../net/core/skbuff.ts';
import { inet_pton4, inet_pton6, inet_ntop6 } from '../../net/core/inet-addr.ts';
import { Flowi4, Flowi6 } from '../../net/core/flow.ts';
import { sk_alloc } from '../../net/core/sock.ts';
import { AF_INET, IPPROTO_UDP, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { sk_daddr_set } from '../../net/core/sock-common.ts';
import { RTN, Rtable, ip_route_add, ip_route_output_key, ip_rt_update_pmtu, ip_route_dump, rt_mtu } from '../../net/ipv4/route.ts';
import { inet_addr_add, inet_addr_type, inet_select_addr } from '../../net/ipv4/devinet.ts';
import { ip_build_and_send_pkt, ip_queue_xmit } from '../../net/ipv4/ip-output.ts';
import { Rt6Info, ip6_route_add, ip6_route_output, ip6_route_dump, ip6_rt_update_pmtu, rt6_mtu } from '../../net/ipv6/route.ts';
import { neigh_dump } from '../../net/core/neighbour.ts';
import { ipv6_addr_add, ipv6_chk_addr, ipv6_dev_get_saddr } from '../../net/ipv6/addrconf.ts';
import { ip6_build_and_send_pkt } from '../../net/ipv6/ip6-output.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';

const ip = inet_pton4;

function route(net: Parameters<typeof ip_route_output_key>[0], daddr: number, oif = 0): Rtable | number {
  const fl4 = new Flowi4();
  fl4.daddr = daddr;
  fl4.flowi4_oif = oif;
  return ip_route_output_key(net, fl4);
}

test('longest prefix wins; the gateway is the next hop; saddr comes from the route', (t) => {
  const h = twoHosts();
  t.is(ip_route_add(h.a, ip('10.1.0.0'), 16, h.deva, h.b4), 0);
  t.is(ip_route_add(h.a, ip('10.1.2.0'), 24, h.deva, ip('10.0.0.3')), 0);
  t.is(ip_route_add(h.a, 0, 0, h.deva, ip('10.0.0.254')), 0);
  const r1 = route(h.a, ip('10.1.2.5')) as Rtable;
  t.is(r1.rt_gw4, ip('10.0.0.3'));
  t.is(r1.rt_type, RTN.RTN_UNICAST);
  t.is(r1.dst_dev, h.deva);
  t.is((route(h.a, ip('10.1.9.9')) as Rtable).rt_gw4, h.b4);
  t.is((route(h.a, ip('8.8.8.8')) as Rtable).rt_gw4, ip('10.0.0.254'), 'the default route');
  t.is((route(h.a, ip('10.0.0.77')) as Rtable).rt_gw4, 0, 'the connected subnet: on link');
  const fl4 = new Flowi4();
  fl4.daddr = ip('8.8.8.8');
  ip_route_output_key(h.a, fl4);
  t.is(fl4.saddr, h.a4);
  t.is(ip_route_add(h.a, ip('10.1.2.0'), 24, h.deva, ip('10.0.0.3')), -17, 'a duplicate: -EEXIST');
  t.is(ip_route_add(h.a, ip('10.5.0.0'), 16, h.deva, ip('192.168.1.1')), -101, 'a gateway off link: -ENETUNREACH');
});

test('through a gateway the frame goes to the gateway\'s MAC with the final destination in the header', (t) => {
  const h = twoHosts();
  ip_route_add(h.a, ip('10.1.0.0'), 16, h.deva, h.b4);
  const seen = capture(h.a);
  const skb = alloc_skb(MAX_HEADER + 8);
  skb_reserve(skb, MAX_HEADER);
  skb_put(skb, 8);
  t.is(ip_build_and_send_pkt(skb, h.a, null, 0, ip('10.1.2.3'), 253), 0);
  h.pump();
  const arp = seen.find((f) => f.outgoing && f.bytes[13] === 0x06)!;
  t.is(new DataView(arp.bytes.buffer, arp.bytes.byteOffset).getUint32(38), h.b4, 'ARP asks for the gateway');
  const out = seen.find((f) => f.outgoing && f.bytes[13] === 0x00)!;
  t.deepEqual([...out.bytes.subarray(0, 6)], [...MAC_B]);
  t.is(new DataView(out.bytes.buffer, out.bytes.byteOffset).getUint32(14 + 16), ip('10.1.2.3'));
  t.is(h.b.mib.ip.InAddrErrors, 1, 'b does not forward (ip_forward 0)');
});

test('no route: -ENETUNREACH and OutNoRoutes; ip_queue_xmit returns -EHOSTUNREACH as the kernel does', (t) => {
  const h = twoHosts();
  t.is(route(h.a, ip('192.168.9.9')), -101);
  const skb = alloc_skb(MAX_HEADER + 8);
  skb_reserve(skb, MAX_HEADER);
  skb_put(skb, 8);
  t.is(ip_build_and_send_pkt(skb, h.a, null, 0, ip('192.168.9.9'), 253), -101);
  t.is(h.a.mib.ip.OutNoRoutes, 1);
  const sk = sk_alloc(h.a, AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  sk.inet_saddr = h.a4;
  sk_daddr_set(sk, ip('192.168.9.9'));
  const s2 = alloc_skb(MAX_HEADER + 8);
  skb_reserve(s2, MAX_HEADER);
  skb_put(s2, 8);
  t.is(ip_queue_xmit(sk, s2), -113);
  t.is(h.a.mib.ip.OutNoRoutes, 2);
  t.is(h.a.mib.ip.OutRequests, 0);
});

test('a socket\'s cached route is dropped when the FIB changes', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const sk = sk_alloc(h.a, AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  sk.inet_saddr = h.a4;
  sk_daddr_set(sk, ip('10.9.0.1'));
  const send = (): number => {
    const s = alloc_skb(MAX_HEADER + 8);
    skb_reserve(s, MAX_HEADER);
    skb_put(s, 8);
    return ip_queue_xmit(sk, s);
  };
  t.is(send(), -113);
  ip_route_add(h.a, ip('10.9.0.0'), 16, h.deva, h.b4);
  t.is(send(), 0);
  const cached = sk.sk_dst_cache;
  t.true(cached instanceof Rtable);
  t.is(send(), 0);
  t.is(sk.sk_dst_cache, cached, 'reused while valid');
  inet_addr_add(h.deva, ip('10.0.0.50'), 24);
  t.is(send(), 0);
  t.not(sk.sk_dst_cache, cached, 'looked up again after an address change');
});

test('address types and source selection', (t) => {
  const h = twoHosts();
  t.is(inet_addr_type(h.a, h.a4), RTN.RTN_LOCAL);
  t.is(inet_addr_type(h.a, ip('127.0.0.1')), RTN.RTN_LOCAL);
  t.is(inet_addr_type(h.a, ip('127.3.4.5')), RTN.RTN_LOCAL, 'all of 127/8 is local');
  t.is(inet_addr_type(h.a, ip('10.0.0.255')), RTN.RTN_BROADCAST);
  t.is(inet_addr_type(h.a, 0xffffffff), RTN.RTN_BROADCAST);
  t.is(inet_addr_type(h.a, 0), RTN.RTN_BROADCAST);
  t.is(inet_addr_type(h.a, ip('239.1.1.1')), RTN.RTN_MULTICAST);
  t.is(inet_addr_type(h.a, h.b4), RTN.RTN_UNICAST);
  inet_addr_add(h.deva, ip('192.168.5.1'), 24);
  t.is(inet_select_addr(h.deva, ip('192.168.5.77')), ip('192.168.5.1'), 'the address whose subnet holds the destination');
  t.is(inet_select_addr(h.deva, ip('8.8.8.8')), h.a4, 'else the first (primary)');
  t.is(inet_select_addr(h.a.loopback_dev!, ip('8.8.8.8')), h.a4, 'lo has only a host-scope address: borrowed from another device');
  const fl4 = new Flowi4();
  fl4.daddr = ip('192.168.5.9');
  ip_route_output_key(h.a, fl4);
  t.is(fl4.saddr, ip('192.168.5.1'), 'the connected route\'s prefsrc');
});

test('local destinations route through lo; a bound device without a route assumes on link', (t) => {
  const h = twoHosts();
  const fl4 = new Flowi4();
  fl4.daddr = h.a4;
  const r = ip_route_output_key(h.a, fl4) as Rtable;
  t.is(r.dst_dev, h.a.loopback_dev!);
  t.is(r.rt_type, RTN.RTN_LOCAL);
  t.is(fl4.saddr, h.a4, 'from the address itself');
  const r2 = route(h.a, ip('127.0.0.1')) as Rtable;
  t.is(r2.dst_dev, h.a.loopback_dev!);
  t.is(route(h.a, ip('172.16.0.1')), -101);
  const r3 = route(h.a, ip('172.16.0.1'), h.deva.ifindex) as Rtable;
  t.is(r3.dst_dev, h.deva, 'SO_BINDTODEVICE: on link');
  t.is(r3.rt_gw4, 0);
  const fl = new Flowi4();
  fl.daddr = h.b4;
  fl.saddr = ip('10.0.0.99');
  t.is(ip_route_output_key(h.a, fl), -101, 'a source that is not ours');
});

test('IPv6: longest prefix, gateways, no route, source selection', (t) => {
  const h = twoHosts();
  const r = (d: string, oif = 0): Rt6Info | number => {
    const fl6 = new Flowi6();
    inet_pton6(d, fl6.daddr);
    fl6.flowi6_oif = oif;
    const res = ip6_route_output(h.a, fl6);
    if (typeof res !== 'number') res.rt6i_src.copy_from(fl6.saddr);
    return res;
  };
  t.is(ip6_route_add(h.a, inet_pton6('2001:db8::'), 32, h.deva, h.b6), 0);
  t.is(ip6_route_add(h.a, inet_pton6('2001:db8:1::'), 48, h.deva, inet_pton6('fd00::3')), 0);
  const r1 = r('2001:db8:1::5') as Rt6Info;
  t.is(inet_ntop6(r1.rt6i_gateway), 'fd00::3');
  t.is((r('2001:db8:2::5') as Rt6Info).rt6i_gateway.w3, 2);
  t.is(r('2001:db9::1'), -101, 'no default route');
  const skb = alloc_skb(MAX_HEADER + 8);
  skb_reserve(skb, MAX_HEADER);
  skb_put(skb, 8);
  t.is(ip6_build_and_send_pkt(skb, h.a, null, new In6Addr(), inet_pton6('2001:db9::1'), 253), -101);
  t.is(h.a.mib.ipv6.Ip6OutNoRoutes, 1);
  t.is(ip6_route_add(h.a, inet_pton6('::'), 0, h.deva, inet_pton6('fe80::1')), 0, 'a link-local gateway is on link');
  t.is(inet_ntop6((r('2001:db9::1') as Rt6Info).rt6i_gateway), 'fe80::1');
  const local = r('fd00::1') as Rt6Info;
  t.is(local.dst_dev, h.a.loopback_dev!, 'our address: through lo');
  t.true(ipv6_chk_addr(h.a, h.a6, null));
  t.false(ipv6_chk_addr(h.a, h.b6, null));
  ipv6_addr_add(h.deva, inet_pton6('2001:db8:1::1'), 64);
  const out = new In6Addr();
  t.is(ipv6_dev_get_saddr(h.a, h.deva, inet_pton6('2001:db8:1::99'), out), 0);
  t.is(inet_ntop6(out), '2001:db8:1::1', 'the longest common prefix');
  ipv6_dev_get_saddr(h.a, h.deva, inet_pton6('fd00::77'), out);
  t.is(inet_ntop6(out), 'fd00::1');
});

test('a learnt path MTU is per destination, clamped at min_pmtu, never raised, and expires', (t) => {
  const h = twoHosts();
  const rb = route(h.a, h.b4) as Rtable;
  t.is(rt_mtu(rb), 1500);
  ip_rt_update_pmtu(h.a, rb, h.b4, 1400);
  const rb2 = route(h.a, h.b4) as Rtable;
  t.is(rt_mtu(rb2), 1400);
  t.not(rb2, rb, 'an exception route of its own');
  t.is(rt_mtu(route(h.a, ip('10.0.0.9')) as Rtable), 1500, 'the rest of the subnet is untouched');
  ip_rt_update_pmtu(h.a, rb2, h.b4, 1450);
  t.is(rt_mtu(route(h.a, h.b4) as Rtable), 1400, 'never raised');
  ip_rt_update_pmtu(h.a, rb2, h.b4, 300);
  const locked = route(h.a, h.b4) as Rtable;
  t.is(rt_mtu(locked), 552, 'clamped at net.ipv4.route.min_pmtu');
  t.true(locked.rt_mtu_locked);
  h.clock.advance(600 * 1e9);
  t.is(rt_mtu(locked), 1500, 'expired after mtu_expires');
  t.is(rt_mtu(route(h.a, h.b4) as Rtable), 1500);
});

test('IPv6: a learnt path MTU is per destination, at least 1280, and expires', (t) => {
  const h = twoHosts();
  const r6 = (a: In6Addr): Rt6Info => {
    const fl6 = new Flowi6();
    fl6.daddr.copy_from(a);
    return ip6_route_output(h.a, fl6) as Rt6Info;
  };
  const rb = r6(h.b6);
  ip6_rt_update_pmtu(h.a, rb, h.b6, 1300);
  t.is(rt6_mtu(r6(h.b6)), 1300);
  t.is(rt6_mtu(r6(inet_pton6('fd00::9'))), 1500);
  ip6_rt_update_pmtu(h.a, r6(h.b6), h.b6, 1000);
  t.is(rt6_mtu(r6(h.b6)), 1280);
  h.clock.advance(600 * 1e9);
  t.is(rt6_mtu(r6(h.b6)), 1500);
});

test('ip route / ip neigh listings', (t) => {
  const h = twoHosts({ staticNeigh: true });
  ip_route_add(h.a, 0, 0, h.deva, h.b4);
  const r = ip_route_dump(h.a);
  t.deepEqual(r.filter((x) => x.table === 'main'), [
    { table: 'main', type: 'unicast', dst: '10.0.0.0/24', dev: 'veth0', via: null, src: '10.0.0.1' },
    { table: 'main', type: 'unicast', dst: 'default', dev: 'veth0', via: '10.0.0.2', src: null },
  ]);
  t.true(r.some((x) => x.table === 'local' && x.type === 'local' && x.dst === '127.0.0.0/8' && x.dev === 'lo'));
  t.true(r.some((x) => x.table === 'local' && x.type === 'broadcast' && x.dst === '10.0.0.255/32'));
  t.deepEqual(neigh_dump(h.a.ipv4.arp_tbl), [{ dst: '10.0.0.2', dev: 'veth0', lladdr: '02:00:00:00:00:02', state: 'PERMANENT' }]);
  t.deepEqual(neigh_dump(h.a.ipv6.nd_tbl), [{ dst: 'fd00::2', dev: 'veth0', lladdr: '02:00:00:00:00:02', state: 'PERMANENT' }]);
  t.true(ip6_route_dump(h.a).some((x) => x.dst === 'fd00::/64' && x.type === 'unicast' && x.dev === 'veth0'));
});
