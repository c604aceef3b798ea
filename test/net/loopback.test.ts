// lo (net/core/loopback.ts): traffic to a local address goes through lo and is received when lo
// is polled, never inside the sender's call; no link header, no neighbour; 127/8 and ::1.
import test from 'ava';
import { capture, icmp4Msg, icmp6Msg, twoHosts } from './support/topology.ts';
import { MAX_HEADER, alloc_skb, consume_skb, skb_put, skb_reserve } from '../../net/core/skbuff.ts';
import { inet_protos } from '../../net/ipv4/protocol.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';
import { IFF } from '../../net/core/netdevice.ts';
import { loopback_poll, LoopbackDevice } from '../../net/core/loopback.ts';
import { ip_build_and_send_pkt } from '../../net/ipv4/ip-output.ts';
import { ip6_build_and_send_pkt } from '../../net/ipv6/ip6-output.ts';

function echo4(): ReturnType<typeof alloc_skb> {
  const skb = alloc_skb(MAX_HEADER + 16);
  skb_reserve(skb, MAX_HEADER);
  skb.head.set(icmp4Msg(8, 0, 0x00050001, new Uint8Array(8)), skb_put(skb, 16));
  return skb;
}

test('lo is registered first, up, loopback, with 127.0.0.1/8 and ::1', (t) => {
  const h = twoHosts();
  const lo = h.a.loopback_dev!;
  t.true(lo instanceof LoopbackDevice);
  t.is(lo.name, 'lo');
  t.is(lo.ifindex, 1);
  t.is(lo.flags & (IFF.IFF_UP | IFF.IFF_LOOPBACK), IFF.IFF_UP | IFF.IFF_LOOPBACK);
  t.is(lo.hard_header_len, 0);
});

test('a ping to our own address is delivered through lo, asynchronously', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  t.is(ip_build_and_send_pkt(echo4(), h.a, null, 0, h.a4, 1), 0);
  t.is(h.a.mib.icmp.InEchos, 0, 'nothing received inside the sender\'s call');
  const lo = h.a.loopback_dev as LoopbackDevice;
  t.is(lo.backlog.qlen, 1);
  // As process_backlog, one poll also takes what its own processing queued (the reply), in turn.
  t.is(loopback_poll(lo), 2);
  t.is(h.a.mib.icmp.InEchos, 1);
  t.is(h.a.mib.icmp.InEchoReps, 1);
  t.is(loopback_poll(lo), 0);
  t.true(seen.every((f) => f.dev === 'lo'), 'nothing on the wire');
  const ip = seen[0]!.bytes;
  t.is(ip[0], 0x45, 'no link header on lo');
  t.is(h.a.ipv4.arp_tbl.entries, 0, 'no neighbour');
  t.is(h.deva.stats.tx_packets, 0);
  t.is(lo.stats.tx_packets, 2);
  t.is(lo.stats.rx_packets, 2);
});

test('127.0.0.1 and any 127/8 address answer: asked from lo\'s prefsrc, answered from the address asked', (t) => {
  const h = twoHosts();
  const seen = capture(h.a);
  ip_build_and_send_pkt(echo4(), h.a, null, 0, inet_pton4('127.0.0.1'), 1);
  ip_build_and_send_pkt(echo4(), h.a, null, 0, inet_pton4('127.9.8.7'), 1);
  h.pump();
  t.is(h.a.mib.icmp.InEchoReps, 2);
  const src = (i: number): number => new DataView(seen[i]!.bytes.buffer, seen[i]!.bytes.byteOffset).getUint32(12);
  const dst = (i: number): number => new DataView(seen[i]!.bytes.buffer, seen[i]!.bytes.byteOffset).getUint32(16);
  const req = seen.findIndex((f, i) => f.outgoing && dst(i) === inet_pton4('127.9.8.7'));
  t.is(src(req), inet_pton4('127.0.0.1'), 'the 127/8 local route\'s prefsrc');
  const rep = seen.findIndex((f, i) => f.outgoing && src(i) === inet_pton4('127.9.8.7'));
  t.true(rep > req, 'the reply comes from the address that was asked');
});

test('ping6 to ::1 and to our own address through lo', (t) => {
  const h = twoHosts();
  for (const dst of [inet_pton6('::1'), h.a6]) {
    const skb = alloc_skb(MAX_HEADER + 16);
    skb_reserve(skb, MAX_HEADER);
    skb.head.set(icmp6Msg(128, 0, 1, new Uint8Array(8), dst, dst), skb_put(skb, 16));
    t.is(ip6_build_and_send_pkt(skb, h.a, null, new In6Addr().copy_from(dst), dst, 58), 0);
  }
  t.is(h.a.mib.ipv6.Icmp6InEchos, 0);
  h.pump();
  t.is(h.a.mib.ipv6.Icmp6InEchos, 2);
  t.is(h.a.mib.ipv6.Icmp6InEchoReplies, 2);
  t.is(h.a.ipv6.nd_tbl.entries, 0);
  t.is(h.devb.rxq.length + h.deva.rxq.length, 0);
});

test('a full backlog drops (CPU_BACKLOG) rather than growing', (t) => {
  const h = twoHosts();
  const lo = h.a.loopback_dev as LoopbackDevice;
  lo.max_backlog = 3;
  for (let i = 0; i < 5; i++) ip_build_and_send_pkt(echo4(), h.a, null, 0, h.a4, 1);
  t.is(lo.backlog.qlen, 3);
  t.is(lo.stats.rx_dropped, 2);
});

test('a broadcast comes back to the sender\'s own stack (dev_loopback_xmit), received on the device it left by', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const got: string[] = [];
  inet_protos[250] = {
    handler: (skb) => {
      got.push(`${skb.dev!.nd_net === h.a ? 'a' : 'b'}:${skb.dev!.name}:${skb.pkt_type}`);
      consume_skb(skb);
      return 0;
    },
    err_handler: () => 0,
  };
  try {
    const skb = alloc_skb(MAX_HEADER + 8);
    skb_reserve(skb, MAX_HEADER);
    skb_put(skb, 8);
    t.is(ip_build_and_send_pkt(skb, h.a, null, 0, inet_pton4('10.0.0.255'), 250), 0);
    t.deepEqual(got, [], 'not inside the sender\'s call');
    h.pump();
    t.deepEqual(got.sort(), ['a:veth0:5', 'b:veth0:1']);
    t.is(h.a.mib.ipext.InBcastPkts, 1);
    t.is(h.a.mib.ipext.OutBcastPkts, 1);
    t.is(h.a.mib.icmp.OutMsgs + h.b.mib.icmp.OutMsgs, 0);
  } finally {
    inet_protos[250] = undefined;
  }
});

test('ping6 ff02::1: the sender, a member of all-nodes, answers itself too', (t) => {
  const h = twoHosts({ staticNeigh: true });
  const all = inet_pton6('ff02::1');
  const skb = alloc_skb(MAX_HEADER + 16);
  skb_reserve(skb, MAX_HEADER);
  skb.head.set(icmp6Msg(128, 0, 9, new Uint8Array(8), h.a6, all), skb_put(skb, 16));
  t.is(ip6_build_and_send_pkt(skb, h.a, null, h.a6, all, 58, { oif: h.deva.ifindex }), 0);
  h.pump();
  t.is(h.a.mib.ipv6.Icmp6InEchos, 1, 'its own request, looped back');
  t.is(h.b.mib.ipv6.Icmp6InEchos, 1);
  t.is(h.a.mib.ipv6.Icmp6InEchoReplies, 2, 'from itself (through lo) and from b');
});
