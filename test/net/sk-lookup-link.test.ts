// SK_LOOKUP attached the way the kernel allows it, through a netns BPF link (BPF_LINK_CREATE,
// BPF_LINK_UPDATE, BPF_LINK_DETACH), on a running stack: programs steer real connections and
// datagrams, an update swaps the program in place, a detach restores the tables' answer, 64 links
// at most; SK_DROP ends in a RST (TCP) and an ICMP port unreachable (UDP), as the kernel answers
// for "no socket"; a pick goes through reuseport selection unless BPF_SK_LOOKUP_F_NO_REUSEPORT.
import test from 'ava';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import {
  BPF_LINK_TYPE_NETNS,
  BPF_SK_LOOKUP_ATTACH_TYPE,
  NETNS_BPF_MAX_PROGS,
  NetnsBpfLink,
  SK_DROP,
  SK_PASS,
  bpf_netns_link_detach,
  bpf_netns_link_update_prog,
  netns_bpf_link_create,
  netns_bpf_links,
  type BpfSkLookupKern,
  type SkLookupLinkProg,
} from '../../net/core/sk-lookup.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { SOL_SOCKET, SO } from '../../net/core/socket-options.ts';
import type { Sock } from '../../net/core/sock.ts';
import type { Socket } from '../../net/socket.ts';
import { MSG_DONTWAIT, sa4, sa6, sock, victim, type Victim } from './support/frames.ts';

const E = ERRNO;

/** An SK_LOOKUP program in TypeScript: what an SkLookupProgramRunner is to the run array. */
function prog(name: string, body: (ctx: BpfSkLookupKern) => number): SkLookupLinkProg & { runs: number } {
  const p = {
    runs: 0,
    program: { name, type: BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP as number },
    run(ctx: BpfSkLookupKern): number {
      p.runs++;
      return body(ctx);
    },
  };
  return p;
}

/** A program assigning `sk` (bpf_sk_assign with `flags`) to every lookup of `dport`, through the host's checks. */
function steer(v: Victim, dport: number, sk: Sock, flags = 0n): SkLookupLinkProg & { runs: number; errs: number[] } {
  const host = net_bpf_host(v.t.b);
  const errs: number[] = [];
  const p = prog('steer', (ctx) => {
    if (ctx.dport !== dport) return SK_PASS;
    const err = host.sk_assign_lookup(ctx, sk, flags);
    if (err !== 0) {
      errs.push(err);
      return SK_DROP;
    }
    return SK_PASS;
  });
  return Object.assign(p, { errs });
}

function tcpListen(v: Victim, family: number, port: number, reuseport = false): Socket {
  const s = sock(v.t.b, family, SOCK_STREAM);
  if (reuseport) s.setsockopt(SOL_SOCKET, SO.SO_REUSEPORT, 1);
  if (s.bind(family === AF_INET ? sa4(0, port) : sa6(v.t.b6, port)) !== 0) throw new Error('bind');
  if (s.listen(16) !== 0) throw new Error('listen');
  return s;
}

function connect(v: Victim, family: number, port: number): Socket {
  const c = sock(v.t.a, family, SOCK_STREAM);
  c.connect(family === AF_INET ? sa4(v.t.b4, port) : sa6(v.t.b6, port));
  v.t.advance(5);
  return c;
}

function accepted(l: Socket): number {
  let n = 0;
  while (typeof l.accept() !== 'number') n++;
  return n;
}

for (const family of [AF_INET, AF_INET6]) {
  const fam = family === AF_INET ? 'v4' : 'v6';

  test(`netns link ${fam}: create steers connections, update swaps the program in place, detach restores the tables`, (t) => {
    const v = victim();
    const net = v.t.b;
    const l80 = family === AF_INET ? v.l4 : v.l6;
    const a = tcpListen(v, family, 9000);
    const b = tcpListen(v, family, 9001);
    const pa = steer(v, 80, a.sk);
    const link = netns_bpf_link_create(net, pa);
    if (typeof link === 'number') return t.fail(`link ${link}`);
    t.true(link instanceof NetnsBpfLink);
    t.deepEqual(link.info(), { id: link.id, type: 'netns', prog_name: 'steer', netns_ino: net.net_cookie, attach_type: BPF_SK_LOOKUP_ATTACH_TYPE, defunct: false });
    t.is(link.type, BPF_LINK_TYPE_NETNS);
    t.deepEqual(netns_bpf_links(net), [link]);
    connect(v, family, 80);
    t.is(accepted(a), 1, 'the program picked the 9000 listener');
    t.is(accepted(l80), 0);

    const pb = steer(v, 80, b.sk);
    t.is(bpf_netns_link_update_prog(link, pb, steer(v, 80, b.sk)), -E.EPERM, 'old program given and not the link\'s');
    t.is(bpf_netns_link_update_prog(link, { run: () => SK_PASS, program: { name: 'x', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP } }), -E.EINVAL);
    t.is(bpf_netns_link_update_prog(link, pb, pa), 0);
    t.is(net.sk_lookup.length, 1, 'in place');
    connect(v, family, 80);
    t.is(accepted(b), 1, 'the new program answers');
    t.is(accepted(a), 0);

    t.is(bpf_netns_link_detach(link), 0);
    t.is(net.sk_lookup.length, 0);
    t.deepEqual(netns_bpf_links(net), []);
    t.true(link.info().defunct);
    t.is(bpf_netns_link_update_prog(link, pa), -67, 'ENOLINK once detached');
    t.is(bpf_netns_link_detach(link), 0, 'detaching twice is harmless');
    connect(v, family, 80);
    t.is(accepted(l80), 1, 'back to the tables');
    v.stop();
  });

  test(`SK_DROP ${fam}: a refused SYN gets a RST (connect fails ECONNREFUSED), a refused datagram an ICMP port unreachable`, (t) => {
    const v = victim();
    const net = v.t.b;
    const drop = prog('drop', () => SK_DROP);
    const link = netns_bpf_link_create(net, drop);
    if (typeof link === 'number') return t.fail(`link ${link}`);
    const rsts = net.mib.tcp.OutRsts;
    const c = connect(v, family, 80);
    t.is(net.mib.tcp.OutRsts, rsts + 1, 'one RST for the SYN');
    t.is(c.connect(family === AF_INET ? sa4(v.t.b4, 80) : sa6(v.t.b6, 80)), -E.ECONNREFUSED);
    t.is(accepted(family === AF_INET ? v.l4 : v.l6), 0, 'the listener on 80 never saw it');

    const noports = family === AF_INET ? net.mib.udp.NoPorts : net.mib.ipv6.Udp6NoPorts;
    const unreach = family === AF_INET ? net.mib.icmp.OutDestUnreachs : net.mib.ipv6.Icmp6OutDestUnreachs;
    const u = sock(v.t.a, family, SOCK_DGRAM);
    t.is(u.connect(family === AF_INET ? sa4(v.t.b4, 5000) : sa6(v.t.b6, 5000)), 0);
    t.is(u.send(new Uint8Array([1])), 1);
    v.t.pump();
    t.is(family === AF_INET ? net.mib.udp.NoPorts : net.mib.ipv6.Udp6NoPorts, noports + 1);
    t.is(family === AF_INET ? net.mib.icmp.OutDestUnreachs : net.mib.ipv6.Icmp6OutDestUnreachs, unreach + 1);
    t.is(u.recv(new Uint8Array(4), MSG_DONTWAIT), -E.ECONNREFUSED, 'the sender learns it');
    t.is((family === AF_INET ? v.u4 : v.u6).recv(new Uint8Array(4), MSG_DONTWAIT), -E.EAGAIN, 'the bound socket got nothing');
    t.true(drop.runs >= 2);
    bpf_netns_link_detach(link);
    v.stop();
  });

  test(`SK_LOOKUP ${fam}: a pick goes through reuseport selection unless F_NO_REUSEPORT; UDP datagrams steered to another port`, (t) => {
    const v = victim();
    const net = v.t.b;
    const g = [tcpListen(v, family, 9000, true), tcpListen(v, family, 9000, true), tcpListen(v, family, 9000, true)];
    const p = steer(v, 80, g[0]!.sk);
    const link = netns_bpf_link_create(net, p);
    if (typeof link === 'number') return t.fail(`link ${link}`);
    for (let i = 0; i < 12; i++) connect(v, family, 80);
    const spread = g.map(accepted);
    t.is(spread.reduce((x, y) => x + y, 0), 12);
    t.true(spread.filter((n) => n > 0).length > 1, `selection in the group: ${spread.join(',')}`);
    t.is(bpf_netns_link_update_prog(link, steer(v, 80, g[0]!.sk, 2n)), 0);
    for (let i = 0; i < 6; i++) connect(v, family, 80);
    t.deepEqual(g.map(accepted), [6, 0, 0], 'F_NO_REUSEPORT: the picked socket itself');
    bpf_netns_link_detach(link);

    // UDP: every datagram to 5000 to a reuseport group bound to 7000, spread by the flow hash.
    const ug = [0, 1, 2].map(() => {
      const u = sock(net, family, SOCK_DGRAM);
      u.setsockopt(SOL_SOCKET, SO.SO_REUSEPORT, 1);
      t.is(u.bind(family === AF_INET ? sa4(0, 7000) : sa6(v.t.b6, 7000)), 0);
      return u;
    });
    const l2 = netns_bpf_link_create(net, steer(v, 5000, ug[0]!.sk));
    if (typeof l2 === 'number') return t.fail(`link ${l2}`);
    for (let i = 0; i < 12; i++) {
      const c = sock(v.t.a, family, SOCK_DGRAM);
      t.is(c.sendto(new Uint8Array([1, 2]), family === AF_INET ? sa4(v.t.b4, 5000) : sa6(v.t.b6, 5000)), 2);
      v.t.pump();
      c.close();
    }
    const got = ug.map((u) => {
      let n = 0;
      while (u.recv(new Uint8Array(4), MSG_DONTWAIT) === 2) n++;
      return n;
    });
    t.is(got.reduce((x, y) => x + y, 0), 12, 'every datagram delivered to the group');
    t.true(got.filter((n) => n > 0).length > 1, `spread: ${got.join(',')}`);
    t.is((family === AF_INET ? v.u4 : v.u6).recv(new Uint8Array(4), MSG_DONTWAIT), -E.EAGAIN, 'none to the socket bound to 5000');
    v.stop();
  });
}

test('netns link: flags and program type checked, at most 64 links per netns (-E2BIG), several links run in attach order', (t) => {
  const v = victim();
  const net = v.t.b;
  t.is(netns_bpf_link_create(net, prog('p', () => SK_PASS), 1), -E.EINVAL);
  t.is(netns_bpf_link_create(net, { run: () => SK_PASS, program: { name: 'tc', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS } }), -E.EINVAL);
  const order: number[] = [];
  const links: NetnsBpfLink[] = [];
  for (let i = 0; i < NETNS_BPF_MAX_PROGS; i++) {
    const l = netns_bpf_link_create(net, prog(`p${i}`, () => (order.push(i), SK_PASS)));
    if (typeof l === 'number') return t.fail(`link ${i}: ${l}`);
    links.push(l);
  }
  t.is(netns_bpf_link_create(net, prog('one too many', () => SK_PASS)), -E.E2BIG);
  t.is(new Set(links.map((l) => l.id)).size, 64, 'link ids are distinct');
  connect(v, AF_INET, 80);
  t.deepEqual(order.slice(0, 64), [...Array(64).keys()], 'attach order');
  t.is(accepted(v.l4), 1, 'all passed without a pick: the tables answer');
  bpf_netns_link_detach(links[0]!);
  t.not(netns_bpf_link_create(net, prog('room again', () => SK_PASS)), -E.E2BIG);
  v.stop();
});
