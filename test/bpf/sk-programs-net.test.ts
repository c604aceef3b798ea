// The socket-aware programs of scenarios/sk attached to a running vxo stack, with real traffic
// between the two hosts of test/net's topology (a = client 10.0.0.1 / fd00::1, b = server
// 10.0.0.2 / fd00::2), on both engines:
// - dispatch on b's netns link: connections and datagrams to addresses/ports nothing listens on
//   land on the sockets of their bindings, a binding without a socket is refused (RST);
// - tc_tproxy at b's clsact ingress: connections to the service port are accepted by the proxy
//   listener with their original destination, UDP too, everything else untouched;
// - sf_drop on a UDP socket: nothing arrives, every datagram counted as a drop.
// The XDP firewall has no hook in net/ (XDP runs in the guest driver); its behaviour with sockets
// is compared with the kernel in test/kernel/sk-programs.test.ts.
//
// DEPENDS ON (issue 16, built in parallel): H2 (SkLookupProgramRunner, socket helpers,
// bpf_sk_assign), H3 (SOCKMAP and its stack side), H4 (NetBpfHost, the SK_LOOKUP hook in the TCP
// and UDP lookups, skb_steal_sock), H5 (clsact / cls_bpf, SO_ATTACH_BPF).
import test, { type ExecutionContext } from 'ava';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import type { BpfMap } from '../../bpf-vm/maps/map.ts';
import { asSockMap } from '../../bpf-vm/maps/sock-map-ops.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';
import type { Sockaddr } from '../../net/core/msghdr.ts';
import { bpf_netns_link_detach, netns_bpf_link_create } from '../../net/core/sk-lookup.ts';
import { sk_attach_bpf, sk_filter } from '../../net/core/sk-filter.ts';
import { sock_map_update_elem_sys } from '../../net/core/sock-map.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { SOL_IPV6 } from '../../net/core/socket-options.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { qdisc_create_clsact, tc_filter_add } from '../../net/sched/cls-bpf.ts';
import { Socket } from '../../net/socket.ts';
import { twoHosts, type TwoHosts } from '../net/support/topology.ts';
import { parseIpv4, parseIpv6 } from '../support/packets.ts';

const SK_DIR = fileURLToPath(new URL('../../scenarios/sk/', import.meta.url));
const IPV6_V6ONLY = 26;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;

const M = { LOOKUPS: 0, NO_BINDING: 1, MISSING_SOCKET: 2, ASSIGNED: 3, NR: 11 } as const;
const T = { NOT_SERVICE: 0, ESTABLISHED: 1, PROXY: 2, NO_PROXY: 3, NR: 10 } as const;

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

function words(coll: Collection, name: string): bigint[] {
  const map: BpfMap | undefined = coll.maps.get(name);
  if (map === undefined) throw new Error(`no map ${name}`);
  const out: bigint[] = [];
  for (let i = 0; i < map.spec.maxEntries; i++) {
    const v = map.lookup(u32le(i));
    if (v === undefined) throw new Error(`${name}[${i}] missing`);
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let o = 0; o + 8 <= v.byteLength; o += 8) out.push(dv.getBigUint64(o, true));
  }
  return out;
}

/** struct bind_key (README.md): prefixlen LE, protocol, port BE, v4-mapped address. */
function bindKey(protocol: number, port: number, addr: string, addrPrefix: number): Uint8Array {
  const v4 = !addr.includes(':');
  const k = new Uint8Array(23);
  const dv = new DataView(k.buffer);
  dv.setUint32(0, 24 + (v4 ? 96 : 0) + addrPrefix, true);
  k[4] = protocol;
  dv.setUint16(5, port, false);
  if (v4) {
    k.set([0xff, 0xff], 17);
    k.set(parseIpv4(addr), 19);
  } else {
    k.set(parseIpv6(addr), 7);
  }
  return k;
}

function binding(id: number, key: Uint8Array): Uint8Array {
  const v = new Uint8Array(8);
  v.set(u32le(id), 0);
  v.set(key.subarray(0, 4), 4);
  return v;
}

function hosts(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
}

function sock(net: TwoHosts['a'], family: number, type: number): Socket {
  const s = Socket.create(net, family, type);
  if (typeof s === 'number') throw new Error(`socket: ${s}`);
  return s;
}

function any(family: number, port: number): Sockaddr {
  return family === AF_INET ? { family: AF_INET, addr: 0, port } : { family: AF_INET6, addr: new In6Addr(), port };
}

function to(h: TwoHosts, family: number, port: number): Sockaddr {
  return family === AF_INET ? { family: AF_INET, addr: h.b4, port } : { family: AF_INET6, addr: h.b6, port };
}

/** A TCP listener on the wildcard address; `dual`: an IPv6 socket that takes IPv4 too. */
function listener(net: TwoHosts['a'], family: number, port: number, dual = false): Socket {
  const s = sock(net, family, SOCK_STREAM);
  if (family === AF_INET6 && s.setsockopt(SOL_IPV6, IPV6_V6ONLY, dual ? 0 : 1) !== 0) throw new Error('v6only');
  if (s.bind(any(family, port)) !== 0 || s.listen(16) !== 0) throw new Error(`listen ${port}`);
  return s;
}

function udpBound(net: TwoHosts['a'], family: number, port: number): Socket {
  const s = sock(net, family, SOCK_DGRAM);
  if (family === AF_INET6 && s.setsockopt(SOL_IPV6, IPV6_V6ONLY, 0) !== 0) throw new Error('v6only');
  if (s.bind(any(family, port)) !== 0) throw new Error(`bind ${port}`);
  return s;
}

/** connect from a, let the handshake run; the client socket. */
function connect(h: TwoHosts, family: number, port: number): Socket {
  const c = sock(h.a, family, SOCK_STREAM);
  c.connect(to(h, family, port));
  h.advance(5);
  return c;
}

/** A server socket accepted from `l` carries data both ways with client `c`. */
function talks(t: ExecutionContext, h: TwoHosts, l: Socket, c: Socket, what: string): Socket | undefined {
  const srv = l.accept();
  if (typeof srv === 'number') {
    t.fail(`${what}: accept ${srv}`);
    return undefined;
  }
  t.is(c.send(new Uint8Array([1, 2, 3])), 3, `${what}: send`);
  h.advance(5);
  t.is(srv.recv(new Uint8Array(8), MSG_DONTWAIT), 3, `${what}: the server got the data`);
  t.is(srv.send(new Uint8Array([4, 5])), 2, `${what}: reply`);
  h.advance(5);
  t.is(c.recv(new Uint8Array(8), MSG_DONTWAIT), 2, `${what}: the client got the reply`);
  return srv;
}

// ---------------------------------------------------------------------------------------------
// dispatch

function dispatchOn(t: ExecutionContext, h: TwoHosts, engine: EngineName, sockets: Record<number, Socket>): Collection {
  const coll = loadObjectFile(join(SK_DIR, 'dispatch.o'));
  const bind = (key: Uint8Array, id: number): void => {
    t.is(coll.maps.get('bindings')?.update(key, binding(id, key)), 0);
  };
  bind(bindKey(IPPROTO_TCP, 0, '10.0.0.2', 32), 1); // tcp 10.0.0.2, all ports
  bind(bindKey(IPPROTO_TCP, 0, 'fd00::2', 128), 1); // tcp fd00::2, all ports (a dual-stack socket)
  bind(bindKey(IPPROTO_UDP, 5300, '::', 0), 2); // udp port 5300 on every address
  bind(bindKey(IPPROTO_TCP, 7777, '10.0.0.2', 32), 3); // a service with no socket
  const dest = coll.maps.get('destinations');
  if (dest === undefined) throw new Error('no destinations');
  for (const [id, s] of Object.entries(sockets)) t.is(sock_map_update_elem_sys(dest, u32le(Number(id)), s.sk, 0), 0, `register ${id}`);
  const runner = new SkLookupProgramRunner(coll.program(), { engine, netHost: net_bpf_host(h.b) });
  const link = netns_bpf_link_create(h.b, runner);
  if (typeof link === 'number') throw new Error(`link: ${link}`);
  t.teardown(() => void bpf_netns_link_detach(link));
  return coll;
}

for (const engine of ENGINES) {
  test(`${engine}: dispatch steers a netns's connections and datagrams by binding`, (t) => {
    const h = hosts();
    const l = listener(h.b, AF_INET6, 9000, true);
    const u = udpBound(h.b, AF_INET6, 9053);
    const coll = dispatchOn(t, h, engine, { 1: l, 2: u });

    for (const [family, port] of [[AF_INET, 4242], [AF_INET6, 4243], [AF_INET, 80]] as const) {
      const c = connect(h, family, port);
      const srv = talks(t, h, l, c, `tcp ${family === AF_INET ? 'v4' : 'v6'} port ${port}`);
      t.is(srv?.sk.skc_num, port, 'the accepted socket keeps the original destination port');
    }

    const cu = sock(h.a, AF_INET, SOCK_DGRAM);
    t.is(cu.sendto(new Uint8Array([9, 9, 9, 9]), to(h, AF_INET, 5300)), 4);
    h.pump();
    t.is(u.recv(new Uint8Array(8), MSG_DONTWAIT), 4, 'udp 5300 lands on the socket of port 9053');

    // Port 7777 is bound to destination 3, which has no socket: SK_DROP, so the SYN gets a RST.
    const refused = connect(h, AF_INET, 7777);
    t.is(refused.sk.skc_state, TCP_STATES.TCP_CLOSE, 'connect refused');

    // A closed socket leaves the SOCKMAP: its bindings now refuse, as for a service that is down.
    t.is(l.close(), 0);
    t.is(asSockMap(coll.maps.get('destinations')!)?.lookupCookie(u32le(1), 0), 0n, 'the closed listener left the map');
    t.is(connect(h, AF_INET, 4244).sk.skc_state, TCP_STATES.TCP_CLOSE, 'refused once the listener is gone');

    // One run per SYN (the handshake's ACK finds the request socket in ehash) and per datagram.
    const m = words(coll, 'metrics');
    t.deepEqual([m[M.LOOKUPS], m[M.ASSIGNED], m[M.MISSING_SOCKET], m[M.NO_BINDING]], [6n, 4n, 2n, 0n]);
    t.is(bpf_sock_refs_held(h.b), 0, 'every sockmap reference released');
  });
}

// ---------------------------------------------------------------------------------------------
// tc_tproxy

const SVC = 8080;
const PROXY = 15001;

function serviceEntry(protocol: number, port: number, proxy: number): [Uint8Array, Uint8Array] {
  const k = new Uint8Array(4);
  k[0] = protocol;
  new DataView(k.buffer).setUint16(2, port, false);
  const v = new Uint8Array(4);
  new DataView(v.buffer).setUint16(0, proxy, false);
  return [k, v];
}

for (const engine of ENGINES) {
  test(`${engine}: tc_tproxy at ingress hands service connections to the proxy listener`, (t) => {
    const h = hosts();
    const proxy = listener(h.b, AF_INET6, PROXY, true);
    const proxyUdp = udpBound(h.b, AF_INET, PROXY);
    const real = listener(h.b, AF_INET, SVC);
    const coll = loadObjectFile(join(SK_DIR, 'tc_tproxy.o'));
    for (const [k, v] of [serviceEntry(IPPROTO_TCP, SVC, PROXY), serviceEntry(IPPROTO_UDP, SVC, PROXY)]) {
      t.is(coll.maps.get('tproxy_services')?.update(k, v), 0);
    }
    t.is(qdisc_create_clsact(h.devb), 0);
    const f = tc_filter_add(h.devb, 'ingress', coll.program(), { engine });
    t.not(typeof f, 'number', `tc filter add: ${String(f)}`);

    for (const family of [AF_INET, AF_INET6]) {
      const c = connect(h, family, SVC);
      const srv = talks(t, h, proxy, c, `tcp ${family === AF_INET ? 'v4' : 'v6'}`);
      t.is(srv?.sk.skc_num, SVC, 'the proxy\'s socket has the original destination port');
    }
    t.is(real.accept(), -EAGAIN, 'the real server on the service port saw nothing');

    const cu = sock(h.a, AF_INET, SOCK_DGRAM);
    t.is(cu.sendto(new Uint8Array([7, 7]), to(h, AF_INET, SVC)), 2);
    h.pump();
    t.is(proxyUdp.recv(new Uint8Array(8), MSG_DONTWAIT), 2, 'udp to the service reaches the proxy socket');

    // Not a service: the real stack answers (a listener on 22 does not exist: RST).
    const other = connect(h, AF_INET, 22);
    t.is(other.sk.skc_state, TCP_STATES.TCP_CLOSE);

    const c = words(coll, 'tproxy_counters');
    t.is(c[T.PROXY], 3n, 'two SYNs and a datagram went to the proxy');
    t.true((c[T.ESTABLISHED] ?? 0n) > 0n, 'later segments followed their connection');
    t.true((c[T.NOT_SERVICE] ?? 0n) > 0n);
    t.is(c[T.NO_PROXY], 0n);
    t.is(c.slice(4).reduce((a, b) => a + b, 0n), 0n, 'no bpf_sk_assign error');
    t.is(bpf_sock_refs_held(h.b), 0, 'every lookup and prefetch reference let go');
  });
}

// ---------------------------------------------------------------------------------------------
// sf_drop

for (const engine of ENGINES) {
  test(`${engine}: sf_drop on a UDP socket drops every datagram`, (t) => {
    const h = hosts();
    const u = udpBound(h.b, AF_INET, 5400);
    const prog = loadObjectFile(join(SK_DIR, 'sf_drop.o')).program();
    t.is(sk_attach_bpf(u.sk, prog, { engine }), 0);
    const c = sock(h.a, AF_INET, SOCK_DGRAM);
    for (let i = 0; i < 3; i++) t.is(c.sendto(new Uint8Array([i]), to(h, AF_INET, 5400)), 1);
    h.pump();
    t.is(u.recv(new Uint8Array(8), MSG_DONTWAIT), -EAGAIN, 'nothing delivered');
    const stats = sk_filter(u.sk)?.stats;
    t.deepEqual([stats?.runs, stats?.drops], [3, 3]);
  });
}
