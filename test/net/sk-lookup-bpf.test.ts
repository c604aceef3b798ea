// Real BPF on the live stack, both engines: scenarios/sk's dispatch.o (the tubular-like SK_LOOKUP
// dispatcher) attached to a machine's netns through a netns link as an SkLookupProgramRunner whose
// helpers reach net_bpf_host, with its SOCKMAP filled from user space with real sockets; it steers
// real connections and datagrams, drops what a binding owns without a socket (RST), and holds no
// socket reference afterwards.
import test, { type ExecutionContext } from 'ava';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { bpf_netns_link_detach, netns_bpf_link_create, type BpfSkLookupKern, type SkLookupLinkProg } from '../../net/core/sk-lookup.ts';
import type { BpfSkLookupKern as ContractKern } from '../../bpf-vm/prog/sock-host.ts';
import { sock_map_update_elem_sys } from '../../net/core/sock-map.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import type { Socket } from '../../net/socket.ts';
import { parseIpv4, parseIpv6 } from '../support/packets.ts';
import { MSG_DONTWAIT, sa4, sa6, sock, victim, type Victim } from './support/frames.ts';

const DISPATCH = fileURLToPath(new URL('../../scenarios/sk/dispatch.o', import.meta.url));
const M = { LOOKUPS: 0, NO_BINDING: 1, MISSING_SOCKET: 2, ASSIGNED: 3, NR: 11 } as const;

// Checked by the compiler: a runner is an SkLookupLinkProg (what a link holds), and net's
// bpf_sk_lookup_kern is the contract's (what the runner's context and bpf_sk_assign get).
const _runnerIsLinkProg = (r: SkLookupProgramRunner): SkLookupLinkProg => r;
const _kernIsContract = (k: BpfSkLookupKern): ContractKern => k;
void _runnerIsLinkProg;
void _kernIsContract;

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** struct bind_key (scenarios/sk/README.md): prefixlen, protocol, be16 port, v4-mapped or v6 address. */
function bindKey(protocol: number, port: number, addr: string, addrPrefix: number): Uint8Array {
  const v4 = !addr.includes(':');
  const k = new Uint8Array(23);
  const dv = new DataView(k.buffer);
  dv.setUint32(0, 8 + 16 + (v4 ? 96 : 0) + addrPrefix, true);
  k[4] = protocol;
  dv.setUint16(5, port, false);
  if (v4) {
    k[17] = 0xff;
    k[18] = 0xff;
    k.set(parseIpv4(addr), 19);
  } else {
    k.set(parseIpv6(addr), 7);
  }
  return k;
}

function bind(t: ExecutionContext, coll: Collection, key: Uint8Array, id: number): void {
  const v = new Uint8Array(8);
  v.set(u32le(id), 0);
  v.set(key.subarray(0, 4), 4);
  t.is(coll.maps.get('bindings')!.update(key, v), 0);
}

function metrics(coll: Collection): bigint[] {
  const m = coll.maps.get('metrics')!;
  return Array.from({ length: M.NR }, (_, i) => new DataView(m.lookup(u32le(i))!.buffer).getBigUint64(0, true));
}

function server(v: Victim, family: number, type: number, port: number): Socket {
  const s = sock(v.t.b, family, type);
  if (s.bind(family === AF_INET ? sa4(0, port) : sa6(v.t.b6, port)) !== 0) throw new Error('bind');
  if (type === SOCK_STREAM && s.listen(16) !== 0) throw new Error('listen');
  return s;
}

function accepted(l: Socket): number {
  let n = 0;
  while (typeof l.accept() !== 'number') n++;
  return n;
}

for (const engine of ENGINES) {
  for (const family of [AF_INET, AF_INET6]) {
    const fam = family === AF_INET ? 'v4' : 'v6';
    test(`dispatch.o (${engine}, ${fam}) on the live stack: bindings steer connections and datagrams, a binding without socket refuses`, (t) => {
      const v = victim();
      const net = v.t.b;
      const coll = loadObjectFile(DISPATCH);
      // Destinations: 5 a listener on 9005 (dual-stack for v6), 6 a listener on 9006, 8 a UDP socket on 7008; 7 has none.
      const l5 = server(v, family, SOCK_STREAM, 9005);
      const l6 = server(v, family, SOCK_STREAM, 9006);
      const u8 = server(v, family, SOCK_DGRAM, 7008);
      const dest = coll.maps.get('destinations')!;
      t.is(sock_map_update_elem_sys(dest, u32le(5), l5.sk, 0), 0);
      t.is(sock_map_update_elem_sys(dest, u32le(6), l6.sk, 0), 0);
      t.is(sock_map_update_elem_sys(dest, u32le(8), u8.sk, 0), 0);
      const me = family === AF_INET ? '10.0.0.2' : 'fd00::2';
      const net_ = family === AF_INET ? '10.0.0.0' : 'fd00::';
      bind(t, coll, bindKey(IPPROTO_TCP, 0, net_, 24), 5); // every port of the subnet
      bind(t, coll, bindKey(IPPROTO_TCP, 80, me, family === AF_INET ? 32 : 128), 6); // port 80 of b
      bind(t, coll, bindKey(IPPROTO_TCP, 443, me, family === AF_INET ? 32 : 128), 7); // no socket
      bind(t, coll, bindKey(IPPROTO_UDP, 53, '::', 0), 8); // udp 53 everywhere

      const runner = new SkLookupProgramRunner(coll.program(), { engine, netHost: net_bpf_host(net) });
      const link = netns_bpf_link_create(net, runner);
      if (typeof link === 'number') return t.fail(`link ${link}`);
      t.is(link.info().prog_name, 'dispatch');

      const to = (port: number): ReturnType<typeof sa4> => (family === AF_INET ? sa4(v.t.b4, port) : sa6(v.t.b6, port));
      const connect = (port: number): Socket => {
        const c = sock(v.t.a, family, SOCK_STREAM);
        c.connect(to(port));
        v.t.advance(5);
        return c;
      };
      connect(80);
      t.is(accepted(l6), 1, 'port 80 → destination 6');
      t.is(accepted(family === AF_INET ? v.l4 : v.l6), 0, 'not the socket bound to port 80');
      connect(12345);
      t.is(accepted(l5), 1, 'any other port of the subnet → destination 5');
      const rsts = net.mib.tcp.OutRsts;
      const c443 = connect(443);
      t.is(net.mib.tcp.OutRsts, rsts + 1, 'a binding without a socket: SK_DROP, RST');
      t.is(c443.connect(to(443)), -111, 'ECONNREFUSED');

      const c = sock(v.t.a, family, SOCK_DGRAM);
      t.is(c.sendto(new Uint8Array([5, 3]), to(53)), 2);
      v.t.pump();
      t.is(u8.recv(new Uint8Array(4), MSG_DONTWAIT), 2, 'udp 53 → destination 8');

      const m = metrics(coll);
      t.is(m[M.ASSIGNED], 3n);
      t.is(m[M.MISSING_SOCKET], 1n);
      t.is(m[M.LOOKUPS], m[M.ASSIGNED]! + m[M.MISSING_SOCKET]! + m[M.NO_BINDING]!, 'every lookup accounted for');
      t.is(bpf_sock_refs_held(net), 0, 'the program released every socket');

      bpf_netns_link_detach(link);
      connect(80);
      t.is(accepted(family === AF_INET ? v.l4 : v.l6), 1, 'detached: the tables answer again');
      v.stop();
    });
  }
}
