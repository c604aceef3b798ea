// SO_REUSEPORT groups: selection by the flow hash (reciprocal_scale of inet_ehashfn / udp_ehashfn
// over num_socks, reproducible with fixed secrets), a flow staying on its member, members leaving
// (the last one moves into the hole), SO_INCOMING_CPU preference, and the SK_REUSEPORT program slot.
import test from 'ava';
import { ERR_ECONNREFUSED } from '../../net/core/err-ptr.ts';
import { reciprocal_scale } from '../../net/core/math.ts';
import type { Sock } from '../../net/core/sock.ts';
import { reuseport_attach_prog, reuseport_select_sock, reuseport_update_incoming_cpu, type SkReuseportProg } from '../../net/core/sock-reuseport.ts';
import { inet_put_port } from '../../net/ipv4/inet-bind-bucket.ts';
import { inet_unhash } from '../../net/ipv4/inet-hash.ts';
import { inet_ehashfn, udp_ehashfn } from '../../net/ipv4/inet-hashfn.ts';
import { __inet_lookup_listener } from '../../net/ipv4/inet-hashtables.ts';
import { __udp4_lib_lookup } from '../../net/ipv4/udp-lookup.ts';
import { udp_lib_unhash } from '../../net/ipv4/udp-table.ts';
import { CLIENT4 as C, SERVER4 as S, listener, stack, udpBound, type Stack } from './helpers.ts';
const tcpAt = (s: Stack, sport: number, saddr = C) => __inet_lookup_listener(s.net, s.tcp, null, 20, saddr, sport, S, 80, 1, 0);

test('TCP: the member is socks[reciprocal_scale(inet_ehashfn(...), n)], and the spread is even', (t) => {
  const s = stack();
  const group = Array.from({ length: 8 }, () => listener(s, '10.0.0.1', 80, { reuseport: true }));
  const socks = group[0]!.sk_reuseport_cb!.socks;
  t.deepEqual(socks, group, 'members in join order');
  const counts = new Map<Sock, number>();
  for (let i = 0; i < 8000; i++) {
    const sport = 1024 + i;
    const sk = tcpAt(s, sport)!;
    t.is<Sock | undefined, Sock | undefined>(sk, socks[reciprocal_scale(inet_ehashfn(s.net, S, 80, C, sport), 8)]);
    counts.set(sk, (counts.get(sk) ?? 0) + 1);
  }
  t.is(counts.size, 8);
  for (const n of counts.values()) t.true(n > 850 && n < 1150, `${n} of 8000 on one member`);
  t.is(tcpAt(s, 5555), tcpAt(s, 5555), 'one flow, one member');
});

test('TCP: a member that stops listening leaves; the last member takes its slot; the last to leave frees the group', (t) => {
  const s = stack();
  const [a, b, c] = [0, 1, 2].map(() => listener(s, '0.0.0.0', 80, { reuseport: true })) as [Sock, Sock, Sock];
  const reuse = a.sk_reuseport_cb!;
  inet_unhash(s.tcp, a);
  t.is(a.sk_reuseport_cb, null);
  t.deepEqual(reuse.socks, [c, b]);
  for (let p = 1; p < 100; p++) t.not(tcpAt(s, p), a);
  inet_unhash(s.tcp, b);
  inet_unhash(s.tcp, c);
  t.is(reuse.num_socks, 0);
  t.is(tcpAt(s, 1), undefined);
  inet_put_port(s.tcp, a);
  const again = listener(s, '0.0.0.0', 80, { reuseport: true });
  t.not(again.sk_reuseport_cb, reuse, 'a new group');
  t.true(again.sk_reuseport_cb!.reuseport_id > reuse.reuseport_id);
});

test('UDP: unconnected members by udp_ehashfn, reproducible from the secret', (t) => {
  const picks = (udp_secret: number) => {
    const s = stack({ secrets: { udp_ehash_secret: udp_secret } });
    const group = Array.from({ length: 5 }, () => udpBound(s, '0.0.0.0', 53, { reuseport: true }));
    const socks = group[0]!.sk_reuseport_cb!.socks;
    const out: number[] = [];
    for (let sport = 1; sport <= 500; sport++) {
      const sk = __udp4_lib_lookup(s.net, s.udp, C, sport, S, 53, 1, 0, null);
      // The wildcard pass hashes the address it looked up, INADDR_ANY.
      t.is(sk, socks[reciprocal_scale(udp_ehashfn(s.net, 0, 53, C, sport), 5)]);
      out.push(group.indexOf(sk!));
    }
    t.is(new Set(out).size, 5);
    return out;
  };
  t.deepEqual(picks(0x44444444), picks(0x44444444));
  t.notDeepEqual(picks(0x44444444), picks(0x12345678));
});

test('UDP: a member leaving the group is no longer picked', (t) => {
  const s = stack();
  const group = Array.from({ length: 3 }, () => udpBound(s, '10.0.0.1', 53, { reuseport: true }));
  udp_lib_unhash(s.udp, group[1]!);
  for (let sport = 1; sport <= 200; sport++) t.not(__udp4_lib_lookup(s.net, s.udp, C, sport, S, 53, 1, 0, null), group[1]);
});

test('SO_INCOMING_CPU: a member on the lookup\'s CPU is preferred, from the hashed slot on', (t) => {
  const s = stack();
  const group = Array.from({ length: 4 }, () => listener(s, '0.0.0.0', 80, { reuseport: true }));
  s.net.cpu = 3;
  reuseport_update_incoming_cpu(group[2]!, 3);
  reuseport_update_incoming_cpu(group[1]!, 5);
  t.is(group[0]!.sk_reuseport_cb!.incoming_cpu, 2);
  for (let p = 1; p <= 100; p++) t.is(tcpAt(s, p), group[2]);
  reuseport_update_incoming_cpu(group[2]!, -1);
  const seen = new Set<unknown>();
  for (let p = 1; p <= 200; p++) seen.add(tcpAt(s, p));
  t.true(seen.size > 1, 'no member on this CPU: the first eligible from the hashed slot');
});

test('the SK_REUSEPORT slot: a program picks, defers to the hash, or refuses (the lookup fails); only with a packet', (t) => {
  const s = stack();
  const group = Array.from({ length: 4 }, () => listener(s, '0.0.0.0', 80, { reuseport: true }));
  const skb = {};
  let verdict: Sock | typeof ERR_ECONNREFUSED | undefined = group[3];
  const prog: SkReuseportProg = { run: () => verdict };
  t.is(reuseport_attach_prog(group[0]!, prog), 0);
  const viaHash = reuseport_select_sock(group[0]!, 12345, null, 20);
  t.is(viaHash, group[0]!.sk_reuseport_cb!.socks[reciprocal_scale(12345, 4)], 'no skb: the hash');
  t.is(reuseport_select_sock(group[0]!, 12345, skb, 20), group[3]);
  verdict = undefined;
  t.is(reuseport_select_sock(group[0]!, 12345, skb, 20), viaHash);
  verdict = ERR_ECONNREFUSED;
  t.is(reuseport_select_sock(group[0]!, 12345, skb, 20), ERR_ECONNREFUSED);
  t.is(__inet_lookup_listener(s.net, s.tcp, skb, 20, C, 1, S, 80, 1, 0), undefined, 'SK_DROP fails the lookup');
  t.truthy(__inet_lookup_listener(s.net, s.tcp, null, 20, C, 1, S, 80, 1, 0));
});
