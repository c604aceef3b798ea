// bpf_sk_assign_tcp_reqsk's checks, one crafted call per row of sockets.md §5's table, in the
// kernel's order (a call failing two checks gets the first one's errno); the state a successful
// call leaves (the request on the skb with sock_pfree, its fields from the attributes, ts_off);
// what happens to that request when the skb is freed first, when skb_steal_sock meets it, and
// when the stack refuses the ACK; the allocation bound.
import test from 'ava';
import { twoHosts, type TwoHosts } from './support/topology.ts';
import { ANY6, A, B, sa4, sa6, sock, tcp4, tcp6 } from './support/frames.ts';
import * as P from '../support/packets.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { ETH_P_ARP, ETH_P_IPV6, kfree_skb, netdev_alloc_skb, skb_put, type SkBuff } from '../../net/core/skbuff.ts';
import { eth_type_trans } from '../../net/ethernet/eth.ts';
import { netif_receive_skb } from '../../net/core/dev.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { ERRNO as E } from '../../bpf-vm/errno.ts';
import {
  BPF_TCP_REQ_ATTRS, BPF_TCP_REQSK_MAX, TCP_MAX_WSCALE, bpf_tcp_req_attrs_write, type BpfTcpReqAttrs,
} from '../../net/core/bpf-tcp-reqsk.ts';
import { RequestSock, reqsk_bpf_live } from '../../net/core/request-sock.ts';
import { skb_prefetched, skb_steal_prefetched, sock_pfree } from '../../net/core/skb-steal-sock.ts';
import type { Socket } from '../../net/socket.ts';
import type { Sock } from '../../net/core/sock.ts';
import { TCP_NEW_SYN_RECV, TCP_STATES } from '../../net/core/tcp-states.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { CookieHook } from './tcp-reqsk-hook.ts';

const SIZE = BPF_TCP_REQ_ATTRS.SIZE;

function hosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
}

function listen(t: TwoHosts, net: 'a' | 'b', family: number, port = 80): Socket {
  const l = sock(t[net], family, SOCK_STREAM);
  if (l.bind(family === AF_INET ? sa4(0, port) : sa6(ANY6, port)) !== 0 || l.listen(16) !== 0) throw new Error('listen');
  return l;
}

/** An ACK from a to b as tc ingress on b's device sees it (skb->data at the network header). */
function ackSkb(t: TwoHosts, family: number = AF_INET): SkBuff {
  const frame = family === AF_INET
    ? tcp4({ sport: 40000, dport: 80, seq: 1001, ack: 5001, flags: P.TCP_ACK }, A, B)
    : tcp6({ sport: 40000, dport: 80, seq: 1001, ack: 5001, flags: P.TCP_ACK }, A, B);
  const skb = netdev_alloc_skb(t.devb, frame.length);
  skb.head.set(frame, skb_put(skb, frame.length));
  skb.protocol = eth_type_trans(skb, t.devb);
  skb.skb_iif = t.devb.ifindex;
  return skb;
}

const good = (): BpfTcpReqAttrs => ({
  rcv_tsval: 777, rcv_tsecr: 100000, mss: 1460, rcv_wscale: 7, snd_wscale: 6,
  ecn_ok: false, wscale_ok: true, sack_ok: true, tstamp_ok: true, usec_ts_ok: false,
});
function bytes(a: Partial<BpfTcpReqAttrs> = {}): Uint8Array {
  return bpf_tcp_req_attrs_write({ ...good(), ...a }, new Uint8Array(SIZE));
}

test('every check of the table, in order, with its errno', (t) => {
  const h = hosts();
  const host = net_bpf_host(h.b);
  const l4 = listen(h, 'b', AF_INET).sk;
  const l6 = listen(h, 'b', AF_INET6, 81).sk;
  const call = (o: { skb?: SkBuff; sk?: object; attrs?: Uint8Array; sz?: number; ingress?: boolean } = {}): number => {
    const skb = o.skb ?? ackSkb(h);
    const r = host.sk_assign_tcp_reqsk(skb, o.sk ?? l4, o.attrs ?? bytes(), o.sz ?? SIZE, o.ingress ?? true);
    kfree_skb(skb);
    return r;
  };
  t.is(call(), 0, 'the reference call succeeds');
  // 1: attrs__sz and reserved[3].
  t.is(call({ sz: SIZE - 1 }), -E.EINVAL, 'attrs__sz 19');
  t.is(call({ sz: SIZE + 4, attrs: new Uint8Array(24) }), -E.EINVAL, 'attrs__sz 24');
  for (let i = 0; i < 3; i++) {
    const a = bytes();
    a[BPF_TCP_REQ_ATTRS.reserved + i] = 1;
    t.is(call({ attrs: a }), -E.EINVAL, `reserved[${i}]`);
  }
  // 2: tc ingress only.
  t.is(call({ ingress: false }), -E.EINVAL, 'at egress');
  // 3: the device's netns.
  const other = listen(h, 'a', AF_INET).sk;
  t.is(call({ sk: other }), -E.ENETUNREACH, "a listener of another netns");
  // 4: the skb's protocol.
  const arp = ackSkb(h);
  arp.protocol = ETH_P_ARP;
  t.is(call({ skb: arp }), -E.EINVAL, 'ETH_P_ARP');
  // 5: a TCP listener.
  const udp = sock(h.b, AF_INET, SOCK_DGRAM);
  udp.bind(sa4(0, 5000));
  t.is(call({ sk: udp.sk }), -E.EINVAL, 'a UDP socket');
  const unbound = sock(h.b, AF_INET, SOCK_STREAM);
  t.is(call({ sk: unbound.sk }), -E.EINVAL, 'a closed TCP socket');
  const cli = sock(h.a, AF_INET, SOCK_STREAM);
  const lsock = listen(h, 'b', AF_INET, 90);
  cli.connect(sa4(h.b4, 90));
  h.advance(3);
  const child = lsock.accept();
  if (typeof child === 'number') throw new Error('accept');
  t.is(child.sk.skc_state, TCP_STATES.TCP_ESTABLISHED);
  t.is(call({ sk: child.sk }), -E.EINVAL, 'an established socket');
  const req = new RequestSock(l4 as Sock);
  t.is(call({ sk: req }), -E.EINVAL, 'a request socket');
  // 6: the family's minimum MSS.
  t.is(call({ attrs: bytes({ mss: 535 }) }), -E.EINVAL, 'IPv4 MSS 535');
  t.is(call({ attrs: bytes({ mss: 536 }) }), 0, 'IPv4 MSS 536');
  t.is(call({ skb: ackSkb(h, AF_INET6), sk: l6, attrs: bytes({ mss: 1219 }) }), -E.EINVAL, 'IPv6 MSS 1219');
  t.is(call({ skb: ackSkb(h, AF_INET6), sk: l6, attrs: bytes({ mss: 1220 }) }), 0, 'IPv6 MSS 1220');
  t.is(call({ skb: ackSkb(h, AF_INET6), sk: l6, attrs: bytes({ mss: 536 }) }), -E.EINVAL, 'IPv6 takes its own minimum');
  // 7: window scaling.
  t.is(call({ attrs: bytes({ snd_wscale: TCP_MAX_WSCALE + 1 }) }), -E.EINVAL, 'snd_wscale 15');
  t.is(call({ attrs: bytes({ rcv_wscale: TCP_MAX_WSCALE + 1 }) }), -E.EINVAL, 'rcv_wscale 15');
  t.is(call({ attrs: bytes({ snd_wscale: 14, rcv_wscale: 14 }) }), 0, '14 is the largest');
  t.is(call({ attrs: bytes({ wscale_ok: false, snd_wscale: 15, rcv_wscale: 200 }) }), 0, 'not checked without wscale_ok');
  h.b.ipv4.sysctl_tcp_window_scaling = 0;
  t.is(call(), -E.EINVAL, 'wscale_ok with tcp_window_scaling=0');
  t.is(call({ attrs: bytes({ wscale_ok: false }) }), 0);
  h.b.ipv4.sysctl_tcp_window_scaling = 1;
  // 8: SACK.
  h.b.ipv4.sysctl_tcp_sack = 0;
  t.is(call(), -E.EINVAL, 'sack_ok with tcp_sack=0');
  t.is(call({ attrs: bytes({ sack_ok: false }) }), 0);
  h.b.ipv4.sysctl_tcp_sack = 1;
  // 9: timestamps.
  h.b.ipv4.sysctl_tcp_timestamps = 0;
  t.is(call(), -E.EINVAL, 'tstamp_ok with tcp_timestamps=0');
  t.is(call({ attrs: bytes({ tstamp_ok: false }) }), 0);
  h.b.ipv4.sysctl_tcp_timestamps = 1;
  // Nothing was left behind by any of them.
  t.is(reqsk_bpf_live(h.b), 0);
  t.is(bpf_sock_refs_held(h.b), 0);
});

test('the order: the first failing check decides the errno', (t) => {
  const h = hosts();
  const host = net_bpf_host(h.b);
  const l4 = listen(h, 'b', AF_INET).sk;
  const other = listen(h, 'a', AF_INET).sk;
  const call = (skb: SkBuff, sk: object, attrs: Uint8Array, sz = SIZE, ingress = true): number => {
    const r = host.sk_assign_tcp_reqsk(skb, sk, attrs, sz, ingress);
    kfree_skb(skb);
    return r;
  };
  const bad = bytes({ mss: 100 });
  bad[BPF_TCP_REQ_ATTRS.reserved] = 1;
  t.is(call(ackSkb(h), other, bad, SIZE, false), -E.EINVAL, '1 before 2 and 3');
  t.is(call(ackSkb(h), other, bytes(), SIZE, false), -E.EINVAL, '2 (egress) before 3 (netns)');
  const arp = ackSkb(h);
  arp.protocol = ETH_P_ARP;
  t.is(call(arp, other, bytes()), -E.ENETUNREACH, '3 (netns) before 4 (protocol)');
  t.is(call(ackSkb(h), other, bytes({ mss: 100 })), -E.ENETUNREACH, '3 before 6 (MSS)');
  const v6 = ackSkb(h, AF_INET6);
  t.is(call(v6, l4, bytes({ mss: 1300 })), 0, 'an IPv4 listener takes an IPv6 request (the kernel does not check the family)');
  host.tcp_reqsk_max = 0;
  t.is(call(ackSkb(h), l4, bytes({ mss: 100 })), -E.EINVAL, '6 before 10 (allocation)');
  h.b.ipv4.sysctl_tcp_sack = 0;
  t.is(call(ackSkb(h), l4, bytes({ snd_wscale: 15 })), -E.EINVAL, '7 and 8 both EINVAL');
  h.b.ipv4.sysctl_tcp_sack = 1;
  t.is(call(ackSkb(h), l4, bytes()), -E.ENOMEM, '10: the bound');
  t.is(reqsk_bpf_live(h.b), 0);
});

test('a successful call: the request on the skb, its fields from the attributes, sock_pfree, the old owner orphaned', (t) => {
  const h = hosts();
  h.advance(5000);
  const host = net_bpf_host(h.b);
  const l = listen(h, 'b', AF_INET).sk as Sock;
  const skb = ackSkb(h);
  let orphaned = 0;
  skb.sk = l;
  skb.destructor = () => { orphaned++; };
  const now_ms = Math.floor(h.clock.ktime_get_ns() / 1e6);
  t.is(host.sk_assign_tcp_reqsk(skb, l, bytes({ ecn_ok: true }), SIZE, true), 0);
  t.is(orphaned, 1, 'skb_orphan ran the previous destructor');
  t.is(skb.destructor, sock_pfree);
  const req = skb.sk as unknown as RequestSock;
  t.true(req instanceof RequestSock);
  t.is(req.skc_state, TCP_NEW_SYN_RECV);
  t.is(req.rsk_listener, l, 'rsk_listener, no reference taken');
  t.is(bpf_sock_refs_held(h.b), 0);
  t.true(req.syncookie_bpf);
  t.true(req.syncookie);
  t.is(req.mss, 1460);
  t.is(req.ts_recent, 777);
  t.is(req.snd_wscale, 6);
  t.is(req.rcv_wscale, 7);
  t.true(req.wscale_ok && req.sack_ok && req.tstamp_ok && req.ecn_ok);
  t.false(req.req_usec_ts);
  t.is(req.ts_off, (100000 - now_ms) >>> 0, 'ts_off = rcv_tsecr - now (ms)');
  t.false(req.skc_hashed, 'in no table');
  t.is(reqsk_bpf_live(h.b), 1);
  kfree_skb(skb);
  t.is(reqsk_bpf_live(h.b), 0);

  const us = ackSkb(h);
  const now_us = Math.floor(h.clock.ktime_get_ns() / 1e3);
  t.is(host.sk_assign_tcp_reqsk(us, l, bytes({ usec_ts_ok: true, rcv_tsecr: 0xfffffff0 }), SIZE, true), 0);
  const r2 = us.sk as unknown as RequestSock;
  t.true(r2.req_usec_ts);
  t.is(r2.ts_off, (0xfffffff0 - now_us) >>> 0, 'usec_ts_ok: the offset against the microsecond clock');
  kfree_skb(us);

  const nots = ackSkb(h);
  t.is(host.sk_assign_tcp_reqsk(nots, l, bytes({ tstamp_ok: false }), SIZE, true), 0);
  t.is((nots.sk as unknown as RequestSock).ts_off, 0, 'no timestamps, no offset');
  kfree_skb(nots);
});

test('an skb freed with its prefetched request frees the request; skb_steal_sock gives the listener once and leaves the request', (t) => {
  const h = hosts();
  const host = net_bpf_host(h.b);
  const l = listen(h, 'b', AF_INET).sk as Sock;
  const skb = ackSkb(h);
  t.is(host.sk_assign_tcp_reqsk(skb, l, bytes(), SIZE, true), 0);
  const req = skb.sk as unknown as RequestSock;
  t.true(skb_prefetched(skb));
  t.is(skb_steal_prefetched(skb), l, 'the listener, not the request');
  t.true(skb_prefetched(skb), 'still prefetched: a null from a second steal is not "none"');
  t.is(skb.sk, req, 'skb->sk stays');
  t.is(skb.destructor, sock_pfree, 'and the destructor');
  t.is(req.rsk_listener, null, 'rsk_listener cleared');
  t.is(skb_steal_prefetched(skb), null, 'a second steal: NULL, as the kernel');
  t.is(reqsk_bpf_live(h.b), 1);
  kfree_skb(skb);
  t.true(req.rsk_dead, 'freed by sock_pfree');
  t.is(reqsk_bpf_live(h.b), 0);
  t.is(bpf_sock_refs_held(h.b), 0);
});

test('the bound: -ENOMEM while tcp_reqsk_max requests are on skbs; freeing one makes room', (t) => {
  const h = hosts();
  const host = net_bpf_host(h.b);
  t.is(host.tcp_reqsk_max, BPF_TCP_REQSK_MAX);
  host.tcp_reqsk_max = 3;
  const l = listen(h, 'b', AF_INET).sk;
  const held = [ackSkb(h), ackSkb(h), ackSkb(h)];
  for (const s of held) t.is(host.sk_assign_tcp_reqsk(s, l, bytes(), SIZE, true), 0);
  const more = ackSkb(h);
  t.is(host.sk_assign_tcp_reqsk(more, l, bytes(), SIZE, true), -E.ENOMEM);
  t.is(more.sk, null, 'a refused call leaves the skb alone');
  kfree_skb(held.pop()!);
  t.is(host.sk_assign_tcp_reqsk(more, l, bytes(), SIZE, true), 0);
  kfree_skb(more);
  for (const s of held) kfree_skb(s);
  t.is(reqsk_bpf_live(h.b), 0);
});

test('the listener closes between the kfunc and the receive path: the segment meets a closed socket, the request is freed', (t) => {
  const h = hosts();
  const host = net_bpf_host(h.b);
  const ls = listen(h, 'b', AF_INET);
  const skb = ackSkb(h);
  t.is(host.sk_assign_tcp_reqsk(skb, ls.sk, bytes(), SIZE, true), 0);
  const req = skb.sk as unknown as RequestSock;
  ls.close();
  netif_receive_skb(skb);
  h.pump();
  t.true(req.rsk_dead);
  t.is(reqsk_bpf_live(h.b), 0);
  t.is(h.b.mib.net.SyncookiesRecv, 0);
});

test('the stack refuses the ACK (tcp_syncookies=0): RST as for any stray ACK, the request freed with the skb', (t) => {
  const h = hosts();
  const hook = new CookieHook(h.devb);
  h.devb.tc_ingress.push(hook);
  h.b.ipv4.sysctl_tcp_syncookies = 0;
  const l = listen(h, 'b', AF_INET);
  const cli = sock(h.a, AF_INET, SOCK_STREAM);
  cli.connect(sa4(h.b4, 80));
  h.advance(3);
  t.true(hook.assigned >= 1, 'the hook assigned a request');
  t.is(reqsk_bpf_live(h.b), 0, 'freed with the skb');
  t.true(h.b.mib.tcp.OutRsts >= 1, 'the listener answered the ACK with a RST');
  t.is(typeof l.accept(), 'number');
  t.is(h.b.mib.net.SyncookiesFailed, 0);
  t.is(h.b.mib.net.SyncookiesRecv, 0);
  t.not(cli.sk.skc_state, TCP_STATES.TCP_ESTABLISHED);
});
