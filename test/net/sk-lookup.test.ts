// The SK_LOOKUP hook point (sockets.md §1.1 3a, §1.2 step 4, §1.3, §2.7): the run array's rules,
// where the hook runs (TCP: only on an ehash miss; UDP: only when no connected socket matched),
// that any result, a refusal included, ends the lookup, and that a pick goes through reuseport
// selection unless the program set no_reuseport.
import test from 'ava';
import { ERR_ECONNREFUSED } from '../../net/core/err-ptr.ts';
import { inet_pton4 as ip4, inet_pton6 as ip6 } from '../../net/core/inet-addr.ts';
import { NETNS_BPF_MAX_PROGS, SK_DROP, SK_PASS, type BpfSkLookupKern, type SkLookupProg } from '../../net/core/sk-lookup.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP } from '../../net/core/socket-constants.ts';
import type { Sock } from '../../net/core/sock.ts';
import { __inet_lookup } from '../../net/ipv4/inet-hashtables.ts';
import { __udp4_lib_lookup } from '../../net/ipv4/udp-lookup.ts';
import { __inet6_lookup } from '../../net/ipv6/inet6-hashtables.ts';
import { __udp6_lib_lookup } from '../../net/ipv6/udp6-lookup.ts';
import { CLIENT4 as C, SERVER4 as S, established, listener, stack, udpBound, udpConnect } from './helpers.ts';

/** A program that records its runs and returns `ret`, selecting `sk` (if given) with `no_reuseport`. */
function prog(ret: number, sk: Sock | null = null, no_reuseport = false, seen: BpfSkLookupKern[] = []): SkLookupProg & { runs: number } {
  const p = {
    runs: 0,
    run(ctx: BpfSkLookupKern): number {
      p.runs++;
      seen.push({ ...ctx });
      if (sk !== null) {
        ctx.selected_sk = sk;
        ctx.no_reuseport = no_reuseport;
      }
      return ret;
    },
  };
  return p;
}

test('run array: the last passing selection wins, drops refuse only without a selection, the context is restored between programs', (t) => {
  const s = stack();
  const a = listener(s, '0.0.0.0', 1);
  const b = listener(s, '0.0.0.0', 2);
  const arr = s.net.sk_lookup;
  t.is(arr.run_v4(IPPROTO_TCP, C, 1000, S, 80, 1), undefined, 'empty: no socket, look on');

  arr.attach(prog(SK_PASS));
  t.is(arr.run_v4(IPPROTO_TCP, C, 1000, S, 80, 1), undefined, 'pass without a selection: look on');

  const seen: BpfSkLookupKern[] = [];
  const pa = prog(SK_PASS, a, true, seen);
  arr.attach(pa);
  arr.attach(prog(SK_DROP, b, false, seen)); // selects, then drops: its pick is discarded
  const pc = prog(SK_PASS, null, false, seen);
  arr.attach(pc);
  t.is(arr.run_v4(IPPROTO_TCP, C, 1000, S, 80, 1), a);
  t.true(arr.no_reuseport, 'the flag of the remembered pick');
  t.is(seen[1]!.selected_sk, a, 'the second program sees the first one\'s pick');
  t.is(seen[2]!.selected_sk, a, 'restored after the dropping program');
  t.is(seen[2]!.no_reuseport, true);
  t.deepEqual([seen[0]!.family, seen[0]!.protocol, seen[0]!.v4_saddr, seen[0]!.sport, seen[0]!.v4_daddr, seen[0]!.dport], [AF_INET, IPPROTO_TCP, C, 1000, S, 80]);

  arr.detach(pa);
  t.is(arr.run_v4(IPPROTO_TCP, C, 1000, S, 80, 1), ERR_ECONNREFUSED, 'a drop and no selection: refused');
  t.is(arr.replace(pc, prog(SK_PASS, b)), 0);
  t.is(arr.run_v4(IPPROTO_TCP, C, 1000, S, 80, 1), b, 'a later pass with a selection overrides the drop');
  t.is(arr.detach(pc), -2, 'already replaced: ENOENT');
});

test('run array: at most 64 programs per netns', (t) => {
  const s = stack();
  for (let i = 0; i < NETNS_BPF_MAX_PROGS; i++) t.is(s.net.sk_lookup.attach(prog(SK_PASS)), 0);
  t.is(s.net.sk_lookup.attach(prog(SK_PASS)), -7);
  t.is(s.net.sk_lookup.length, 64);
});

test('TCP: the hook runs only when ehash misses, and its pick is final (even a listener on another port)', (t) => {
  const s = stack();
  const l80 = listener(s, '10.0.0.1', 80);
  const l9000 = listener(s, '0.0.0.0', 9000);
  const conn = established(s, '10.0.0.1', 80, '10.0.0.2', 40000);
  const p = prog(SK_PASS, l9000);
  s.net.sk_lookup.attach(p);
  t.is(__inet_lookup(s.net, s.tcp, null, 20, C, 40000, S, 80, 1, 0), conn);
  t.is(p.runs, 0, 'an established segment never reaches SK_LOOKUP');
  t.is(__inet_lookup(s.net, s.tcp, null, 20, C, 40001, S, 80, 1, 0), l9000, 'the program overrides the exact-address listener');
  t.is(p.runs, 1);
  t.not(l80, l9000);
});

test('TCP: a refusal ends the lookup although a listener matches (the client sees ECONNREFUSED)', (t) => {
  const s = stack();
  listener(s, '0.0.0.0', 80);
  s.net.sk_lookup.attach(prog(SK_DROP));
  t.is(__inet_lookup(s.net, s.tcp, null, 20, C, 40000, S, 80, 1, 0), undefined);
  t.is(__inet6_lookup(s.net, s.tcp, null, 20, ip6('2001:db8::2'), 1, ip6('2001:db8::1'), 80, 1, 0), undefined);
});

test('TCP: a pick in a reuseport group goes through selection unless no_reuseport', (t) => {
  const s = stack();
  const group = [0, 1, 2, 3].map(() => listener(s, '0.0.0.0', 8080, { reuseport: true }));
  const first = group[0]!;
  const p = prog(SK_PASS, first, false);
  s.net.sk_lookup.attach(p);
  const picks = new Set<unknown>();
  for (let sport = 1; sport <= 200; sport++) picks.add(__inet_lookup(s.net, s.tcp, null, 20, C, sport, S, 80, 1, 0));
  t.is(picks.size, 4, 'selection spreads the flows over the group');
  s.net.sk_lookup.replace(p, prog(SK_PASS, first, true));
  for (let sport = 1; sport <= 50; sport++) t.is(__inet_lookup(s.net, s.tcp, null, 20, C, sport, S, 80, 1, 0), first);
});

test('TCP over IPv6: the hook sees IPv6 addresses and can redirect', (t) => {
  const s = stack();
  const l = listener(s, '::', 9000, { family: AF_INET6 });
  const seen: BpfSkLookupKern[] = [];
  s.net.sk_lookup.attach(prog(SK_PASS, l, false, seen));
  t.is(__inet6_lookup(s.net, s.tcp, null, 20, ip6('2001:db8::2'), 1234, ip6('2001:db8::1'), 443, 7, 0), l);
  t.is(seen[0]!.family, AF_INET6);
  t.is(seen[0]!.v6_daddr.w3, 1);
  t.is(seen[0]!.ingress_ifindex, 7);
});

test('UDP: the hook does not run for a connected socket\'s datagrams, and overrides an exact-address one', (t) => {
  const s = stack();
  const exact = udpBound(s, '10.0.0.1', 53, { reuseaddr: true });
  const conn = udpBound(s, '10.0.0.1', 53, { reuseaddr: true });
  udpConnect(s, conn, '10.0.0.2', 5000, '10.0.0.1');
  const target = udpBound(s, '0.0.0.0', 5353);
  const p = prog(SK_PASS, target);
  s.net.sk_lookup.attach(p);
  t.is(__udp4_lib_lookup(s.net, s.udp, C, 5000, S, 53, 1, 0, null), conn);
  t.is(p.runs, 0);
  t.is(__udp4_lib_lookup(s.net, s.udp, C, 5001, S, 53, 1, 0, null), target, 'over the unconnected exact-address socket');
  t.is(p.runs, 1);
  t.not(exact, target);
});

test('UDP: a refusal ends the lookup although an exact and a wildcard socket match; a pass without a pick falls through', (t) => {
  const s = stack();
  const exact = udpBound(s, '10.0.0.1', 53, { reuseaddr: true });
  const wild = udpBound(s, '0.0.0.0', 53, { reuseaddr: true });
  const drop = prog(SK_DROP);
  s.net.sk_lookup.attach(drop);
  t.is(__udp4_lib_lookup(s.net, s.udp, C, 1, S, 53, 1, 0, null), undefined);
  t.is(__udp4_lib_lookup(s.net, s.udp, C, 1, ip4('10.0.0.9'), 53, 1, 0, null), undefined);
  s.net.sk_lookup.replace(drop, prog(SK_PASS));
  t.is(__udp4_lib_lookup(s.net, s.udp, C, 1, S, 53, 1, 0, null), exact);
  t.is(__udp4_lib_lookup(s.net, s.udp, C, 1, ip4('10.0.0.9'), 53, 1, 0, null), wild);
  const v6 = udpBound(s, '::', 53, { family: AF_INET6, v6only: true });
  t.is(__udp6_lib_lookup(s.net, s.udp, ip6('2001:db8::2'), 1, ip6('2001:db8::1'), 53, 1, 0, null), v6);
  s.net.sk_lookup.attach(prog(SK_DROP));
  t.is(__udp6_lib_lookup(s.net, s.udp, ip6('2001:db8::2'), 1, ip6('2001:db8::1'), 53, 1, 0, null), undefined);
});
