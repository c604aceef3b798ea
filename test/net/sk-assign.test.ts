// bpf_sk_assign in both of its forms: SK_LOOKUP's (bpf_sk_lookup_assign: every check and errno of
// sockets.md §2.5) and tc's (bpf_sk_assign: the socket rides the skb as a prefetched one and the
// receive paths take it before ehash and SK_LOOKUP: a SYN to port 80 lands on a listener on 9000,
// a datagram on a socket of another port; an skb dropped first lets the socket go).
import test from 'ava';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { BPF_SK_LOOKUP_KIND } from '../../bpf-vm/prog/sock-host.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { inet_reqsk_alloc } from '../../net/core/request-sock.ts';
import { BpfSkLookupKern, SK_DROP } from '../../net/core/sk-lookup.ts';
import { ETH_P_IP, ETH_P_IPV6, alloc_skb, kfree_skb, type SkBuff } from '../../net/core/skbuff.ts';
import { sock_pfree } from '../../net/core/skb-steal-sock.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { SOL_SOCKET, SO } from '../../net/core/socket-options.ts';
import type { Sock } from '../../net/core/sock.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { TC_ACT } from '../../net/sched/pkt-cls.ts';
import type { Socket } from '../../net/socket.ts';
import { established as est, listener, stack, tcpSock, timeWait, udpBound, udpConnect } from './helpers.ts';
import { MSG_DONTWAIT, established, sa4, sa6, sock, victim, type Victim } from './support/frames.ts';

const E = ERRNO;

function ctx(family: number, protocol: number): BpfSkLookupKern {
  const c = new BpfSkLookupKern();
  c.family = family;
  c.protocol = protocol;
  return c;
}

test('bpf_sk_lookup_assign: every check and errno, in the kernel\'s order', (t) => {
  const s = stack();
  const host = net_bpf_host(s.net);
  const l4 = listener(s, '0.0.0.0', 80);
  const l6 = listener(s, '::', 81, { family: AF_INET6 });
  const l6only = listener(s, '::', 82, { family: AF_INET6, v6only: true });
  const conn = est(s, '10.0.0.1', 80, '10.0.0.2', 40000);
  const tw = timeWait(s, est(s, '10.0.0.1', 80, '10.0.0.2', 40001));
  const req = inet_reqsk_alloc(l4);
  const u = udpBound(s, '0.0.0.0', 53);
  const uc = udpBound(s, '0.0.0.0', 54);
  t.is(udpConnect(s, uc, '10.0.0.2', 53, '10.0.0.1'), 0);
  const closedTcp = tcpSock(s);

  const tcp4 = (): BpfSkLookupKern => ctx(AF_INET, IPPROTO_TCP);
  // 1. unknown flags, before anything else (even with a bad socket)
  t.is(host.sk_assign_lookup(tcp4(), conn, 4n), -E.EINVAL);
  t.is(host.sk_assign_lookup(tcp4(), l4, 1n << 63n), -E.EINVAL);
  // 2. refcounted sockets: established, TIME_WAIT, request, a TCP socket never listening
  t.is(host.sk_assign_lookup(tcp4(), conn, 0n), -E.ESOCKTNOSUPPORT);
  t.is(host.sk_assign_lookup(tcp4(), tw, 0n), -E.ESOCKTNOSUPPORT);
  t.is(host.sk_assign_lookup(tcp4(), req, 0n), -E.ESOCKTNOSUPPORT);
  t.is(host.sk_assign_lookup(tcp4(), closedTcp, 0n), -E.ESOCKTNOSUPPORT);
  // 4. a connected UDP socket
  t.is(host.sk_assign_lookup(ctx(AF_INET, IPPROTO_UDP), uc, 0n), -E.ESOCKTNOSUPPORT);
  // 5. protocol
  t.is(host.sk_assign_lookup(tcp4(), u, 0n), -E.EPROTOTYPE);
  t.is(host.sk_assign_lookup(ctx(AF_INET, IPPROTO_UDP), l4, 0n), -E.EPROTOTYPE);
  // 6. family: an AF_INET socket for IPv6, a v6-only socket for IPv4; a dual-stack one takes IPv4
  t.is(host.sk_assign_lookup(ctx(AF_INET6, IPPROTO_TCP), l4, 0n), -E.EAFNOSUPPORT);
  t.is(host.sk_assign_lookup(tcp4(), l6only, 0n), -E.EAFNOSUPPORT);
  const c = tcp4();
  t.is(host.sk_assign_lookup(c, l6, 0n), 0);
  t.is(c.selected_sk, l6);
  t.false(c.no_reuseport);
  // 7. a selection exists: EEXIST without F_REPLACE (NULL included)
  t.is(host.sk_assign_lookup(c, l4, 0n), -E.EEXIST);
  t.is(host.sk_assign_lookup(c, null, 0n), -E.EEXIST);
  t.is(host.sk_assign_lookup(c, l4, 2n), -E.EEXIST, 'NO_REUSEPORT alone does not replace');
  t.is(c.selected_sk, l6);
  // 8. F_REPLACE (with NO_REUSEPORT), and NULL with F_REPLACE clears
  t.is(host.sk_assign_lookup(c, l4, 3n), 0);
  t.is(c.selected_sk, l4);
  t.true(c.no_reuseport);
  t.is(host.sk_assign_lookup(c, null, 1n), 0);
  t.is(c.selected_sk, null);
  t.false(c.no_reuseport);
  t.is(host.sk_assign_lookup(c, null, 0n), 0, 'NULL with nothing selected');
  // UDP: an unconnected socket, v4
  const cu = ctx(AF_INET, IPPROTO_UDP);
  t.is(host.sk_assign_lookup(cu, u, 2n), 0);
  t.is(cu.selected_sk, u);
  t.true(cu.no_reuseport);
  t.is(bpf_sock_refs_held(s.net), 0, 'assigning takes no reference');
});

/** A tc ingress hook on b's device that bpf_sk_assigns `pick(skb)` (if any) and passes every packet. */
function tcAssign(v: Victim, pick: (skb: SkBuff) => Sock | null, verdict: number = TC_ACT.TC_ACT_OK): { results: number[] } {
  const host = net_bpf_host(v.t.b);
  const results: number[] = [];
  v.t.devb.tc_ingress.push({
    run(skb: SkBuff): number {
      const sk = pick(skb);
      if (sk !== null) results.push(host.sk_assign_skb(skb, sk, 0n));
      return verdict;
    },
  });
  return { results };
}

/** The L4 protocol and destination port of a packet at tc ingress (data at the network header). */
function l4(skb: SkBuff): { proto: number; dport: number } {
  const h = skb.data;
  if (skb.protocol === ETH_P_IP) {
    const ihl = (skb.head[h]! & 0xf) * 4;
    return { proto: skb.head[h + 9]!, dport: skb.view.getUint16(h + ihl + 2) };
  }
  if (skb.protocol === ETH_P_IPV6) return { proto: skb.head[h + 6]!, dport: skb.view.getUint16(h + 40 + 2) };
  return { proto: -1, dport: -1 };
}

/**
 * Cilium's proxy steering (sockets.md §9.3): the packet's own connection if the stack has one
 * (bpf_skc_lookup_tcp: an established or request socket; TIME_WAIT and listeners skipped), else
 * the proxy listener; released after the assign.
 */
function proxyPick(v: Victim, skb: SkBuff, proxy: Sock): Sock | null {
  const host = net_bpf_host(v.t.b);
  const h = skb.data;
  const p = l4(skb);
  if (p.proto !== IPPROTO_TCP || p.dport !== 80) return null;
  const v4 = skb.protocol === ETH_P_IP;
  const th = h + (v4 ? 20 : 40);
  const tuple = v4 ? new Uint8Array(12) : new Uint8Array(36);
  if (v4) {
    tuple.set(skb.head.subarray(h + 12, h + 20), 0);
    tuple.set(skb.head.subarray(th, th + 4), 8);
  } else {
    tuple.set(skb.head.subarray(h + 8, h + 40), 0);
    tuple.set(skb.head.subarray(th, th + 4), 32);
  }
  const skc = host.sk_lookup({ ifindex: skb.dev!.ifindex, skb }, BPF_SK_LOOKUP_KIND.SKC_TCP, v4 ? AF_INET : AF_INET6, tuple, -1n) as Sock | null;
  if (skc !== null) {
    const own = skc.skc_state !== TCP_STATES.TCP_LISTEN && skc.skc_state !== TCP_STATES.TCP_TIME_WAIT;
    if (own) {
      // Assign, then release the lookup's reference (the skb holds its own).
      const r = host.sk_assign_skb(skb, skc, 0n);
      host.sk_release(skc);
      if (r !== 0) throw new Error(`assign ${r}`);
      return null;
    }
    host.sk_release(skc);
  }
  return proxy;
}

function listen(v: Victim, family: number, port: number, opts: (s: Socket) => void = () => {}): Socket {
  const s = sock(v.t.b, family, SOCK_STREAM);
  opts(s);
  if (s.bind(family === AF_INET ? sa4(0, port) : sa6(v.t.b6, port)) !== 0) throw new Error('bind');
  if (s.listen(16) !== 0) throw new Error('listen');
  return s;
}

for (const family of [AF_INET, AF_INET6]) {
  const fam = family === AF_INET ? 'v4' : 'v6';

  test(`tc bpf_sk_assign ${fam}: a SYN to port 80 lands on a listener on 9000, bypassing ehash and SK_LOOKUP (a transparent proxy)`, (t) => {
    const v = victim();
    const proxy = listen(v, family, 9000);
    const { results } = tcAssign(v, (skb) => proxyPick(v, skb, proxy.sk));
    let lookups = 0;
    v.t.b.sk_lookup.attach({ run: () => (lookups++, SK_DROP) });
    const cli = sock(v.t.a, family, SOCK_STREAM);
    cli.connect(family === AF_INET ? sa4(v.t.b4, 80) : sa6(v.t.b6, 80));
    v.t.advance(5);
    const l = family === AF_INET ? v.l4 : v.l6;
    t.is(l.accept(), -E.EAGAIN, 'the port-80 listener saw nothing');
    const srv = proxy.accept();
    if (typeof srv === 'number') return t.fail(`accept ${srv}`);
    t.is(srv.sk.skc_num, 80, 'the connection keeps its original destination port');
    // SK_LOOKUP ran once: inside the tc program's own bpf_skc_lookup_tcp for the SYN (as the
    // kernel's helper runs it; it refused, so the proxy was assigned). The stack's lookups of the
    // SYN and of every later segment took the prefetched socket and never reached it.
    t.is(lookups, 1);
    t.true(results.length >= 1 && results.every((r) => r === 0));
    t.is(cli.send(new Uint8Array([1, 2, 3])), 3);
    v.t.advance(5);
    t.is(srv.recv(new Uint8Array(8), MSG_DONTWAIT), 3, 'data flows on the proxied connection');
    t.is(bpf_sock_refs_held(v.t.b), 0, 'every prefetched reference was let go');
    v.stop();
  });

  test(`tc bpf_sk_assign ${fam}: a datagram to port 5000 lands on an unconnected UDP socket of port 7000`, (t) => {
    const v = victim();
    const u = sock(v.t.b, family, SOCK_DGRAM);
    t.is(u.bind(family === AF_INET ? sa4(0, 7000) : sa6(v.t.b6, 7000)), 0);
    tcAssign(v, (skb) => {
      const p = l4(skb);
      return p.proto === IPPROTO_UDP && p.dport === 5000 ? u.sk : null;
    });
    const c = sock(v.t.a, family, SOCK_DGRAM);
    t.is(c.sendto(new Uint8Array([7, 7]), family === AF_INET ? sa4(v.t.b4, 5000) : sa6(v.t.b6, 5000)), 2);
    v.t.pump();
    t.is(u.recv(new Uint8Array(8), MSG_DONTWAIT), 2);
    t.is((family === AF_INET ? v.u4 : v.u6).recv(new Uint8Array(8), MSG_DONTWAIT), -E.EAGAIN);
    v.stop();
  });
}

test('tc bpf_sk_assign: a prefetched listener in a reuseport group still goes through reuseport selection', (t) => {
  const v = victim();
  const opt = (s: Socket): void => void s.setsockopt(SOL_SOCKET, SO.SO_REUSEPORT, 1);
  const g = [listen(v, AF_INET, 9000, opt), listen(v, AF_INET, 9000, opt), listen(v, AF_INET, 9000, opt)];
  tcAssign(v, (skb) => proxyPick(v, skb, g[0]!.sk));
  const clis: Socket[] = [];
  for (let i = 0; i < 12; i++) {
    const c = sock(v.t.a, AF_INET, SOCK_STREAM);
    c.connect(sa4(v.t.b4, 80));
    clis.push(c);
  }
  v.t.advance(10);
  const per = g.map((l) => {
    let n = 0;
    while (typeof l.accept() !== 'number') n++;
    return n;
  });
  t.is(per.reduce((a, b) => a + b, 0), 12, 'every connection accepted in the group');
  t.true(per.filter((n) => n > 0).length > 1, `spread over the group: ${per.join(',')}`);
  v.stop();
});

test('tc bpf_sk_assign: its errors, and the reference of an skb dropped before the stack took its socket', (t) => {
  const v = victim();
  const host = net_bpf_host(v.t.b);
  const { stp, ctp } = established(v);
  const skb = alloc_skb(256);
  skb.dev = v.t.devb;
  t.is(host.sk_assign_skb(skb, stp, 1n), -E.EINVAL, 'flags must be 0');
  t.is(host.sk_assign_skb(skb, ctp, 0n), -E.ENETUNREACH, 'a socket of another netns');
  t.is(host.sk_assign_skb(skb, sock(v.t.b, AF_INET, SOCK_DGRAM).sk, 0n), -E.EOPNOTSUPP, 'an unhashed socket');
  t.is(host.sk_assign_skb(skb, stp, 0n), 0);
  t.is(skb.sk, stp);
  t.is(skb.destructor, sock_pfree, 'prefetched');
  t.is(bpf_sock_refs_held(v.t.b), 1, 'an established socket is refcounted');
  kfree_skb(skb);
  t.is(bpf_sock_refs_held(v.t.b), 0, 'sock_pfree let it go');

  // Dropped at tc after the assign (TC_ACT_SHOT): nothing leaks either.
  const { results } = tcAssign(v, (s) => (l4(s).proto === IPPROTO_TCP ? stp : null), TC_ACT.TC_ACT_SHOT);
  const c = sock(v.t.a, AF_INET, SOCK_STREAM);
  c.connect(sa4(v.t.b4, 80));
  v.t.advance(3);
  t.true(results.length > 0 && results.every((r) => r === 0));
  t.is(bpf_sock_refs_held(v.t.b), 0);
  v.stop();
});

