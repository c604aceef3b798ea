// SOCKMAP and SOCKHASH from programs (helpers/map-helpers.ts), on both engines: a lookup turns the
// entry's cookie into a socket pointer through the machine's stack (a real one: net's NetBpfHost
// over two stacks), with a reference bpf_sk_release drops; an empty entry, a closed socket or no
// stack give NULL. Updates take a socket pointer (the kernel's checks: EINVAL, EOPNOTSUPP) and
// deletes have the maps' errnos. The programs are verified (the verifier's sockmap rules are tested with it).
import test from 'ava';
import { ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE as T, type BpfMap } from '../../bpf-vm/maps/map.ts';
import { asSockMap } from '../../bpf-vm/maps/sock-map-ops.ts';
import { BPF_SOCK, SOCK_SLOT } from '../../bpf-vm/prog/bpf-sock.ts';
import type { BpfNetHost, BpfSockRef } from '../../bpf-vm/prog/sock-host.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { asmXdp } from '../support/vm.ts';
import { connectPair, rig } from '../net/tcp-harness.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { Socket } from '../../net/socket.ts';
import { AF_INET, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { sock_gen_cookie } from '../../net/core/sock-diag.ts';
import { sock_map_update_elem, sock_map_update_elem_sys } from '../../net/core/sock-map.ts';
import type { SockCommon } from '../../net/core/sock-common.ts';
import type { SockMapHost } from '../../bpf-vm/maps/sock-map-ops.ts';

const MISS = 99999;

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

const sockmap = (name: string, n = 4): BpfMap => createMap({ name, type: T.BPF_MAP_TYPE_SOCKMAP, keySize: 4, valueSize: 8, maxEntries: n, flags: 0 });
const sockhash = (name: string, n = 4): BpfMap => createMap({ name, type: T.BPF_MAP_TYPE_SOCKHASH, keySize: 4, valueSize: 8, maxEntries: n, flags: 0 });

/** Looks `key` up in sm; returns the socket's bpf_sock.src_port (after releasing it) or MISS. */
const LOOKUP = (key: number): string => [
  `stw [%r10-4], ${key}`, 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(sm)', 'call 1',
  'jeq %r0, 0, miss', `ldxw %r6, [%r0+${BPF_SOCK.src_port}]`, 'mov %r1, %r0', 'call 86', 'mov %r0, %r6', 'exit',
  'miss:', `mov %r0, ${MISS}`, 'exit',
].join('\n');

/** Looks `key` up in sm and puts the socket into sh at `dst` (flags 0): the update's result, or MISS. */
const COPY = (key: number, dst: number): string => [
  `stw [%r10-4], ${key}`, 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(sm)', 'call 1',
  'jeq %r0, 0, miss', 'mov %r6, %r0', `stw [%r10-8], ${dst}`, 'mov %r2, %r10', 'add %r2, -8', 'mov %r3, %r6', 'mov %r4, 0',
  'lddw %r1, map_by_fd(sh)', 'call 2', 'mov %r7, %r0', 'mov %r1, %r6', 'call 86', 'mov %r0, %r7', 'exit',
  'miss:', `mov %r0, ${MISS}`, 'exit',
].join('\n');

/** Deletes `key` from sm: the helper's result. */
const DELETE = (key: number): string => [
  `stw [%r10-4], ${key}`, 'mov %r2, %r10', 'add %r2, -4', 'lddw %r1, map_by_fd(sm)', 'call 3', 'exit',
].join('\n');

function runner(engine: EngineName, src: string, maps: Record<string, BpfMap>, netHost: BpfNetHost | undefined): () => number {
  const r = new XdpProgramRunner(asmXdp(src, maps), { engine, netHost });
  return () => {
    r.xdp.prepare(new Uint8Array(4096), 0, 4096, 256, 64);
    const v = r.run();
    return v | 0;
  };
}

/** A host that counts the references it hands out and gets back. */
function counting(host: BpfNetHost): BpfNetHost & { held: number } {
  const h = Object.create(host) as BpfNetHost & { held: number };
  h.held = 0;
  h.sk_by_cookie = (c: bigint) => {
    const sk = host.sk_by_cookie(c);
    if (sk !== null) h.held++;
    return sk;
  };
  h.sk_release = (sk: BpfSockRef) => {
    h.held--;
    host.sk_release(sk);
  };
  return h;
}

for (const engine of ENGINES) {
  test(`${engine}: a sockmap lookup gives the live socket (a reference released by bpf_sk_release); empty, closed or no stack: NULL`, (t) => {
    const r = rig({ init: (net) => udp_init(net) });
    const { lst, cli, srv } = connectPair(r, 80);
    const u = Socket.create(r.a, AF_INET, SOCK_DGRAM) as Socket;
    t.is(u.bind({ family: AF_INET, addr: 0, port: 5353 }), 0);
    const sm = sockmap('sm');
    t.is(sock_map_update_elem_sys(sm, u32(0), lst.sk, 0), 0);
    t.is(sock_map_update_elem_sys(sm, u32(1), u.sk, 0), 0);
    t.is(sock_map_update_elem_sys(sm, u32(2), srv.sk, 0), 0);
    const host = counting(net_bpf_host(r.a));
    const run = (key: number, h: BpfNetHost | null = host) => runner(engine, LOOKUP(key), { sm }, h ?? undefined)();
    t.is(run(0), 80);
    t.is(run(1), 5353);
    t.is(run(2), 80, 'the accepted socket\'s local port');
    t.is(run(3), MISS, 'empty slot');
    t.is(run(7), MISS, 'past max_entries');
    t.is(run(0, null), MISS, 'no stack: a netns with no sockets');
    t.is(host.held, 0, 'every reference released');
    // Another machine's stack does not know these cookies: a guest never reaches the host's sockets.
    t.is(run(0, net_bpf_host(r.b)), MISS);
    u.close();
    t.is(run(1), MISS, 'closed: out of the map');
    srv.close();
    cli.close();
    r.pump();
    t.is(run(2), MISS);
  });

  test(`${engine}: a SOCKHASH lookup, and a socket the map still names after it is gone gives NULL`, (t) => {
    const r = rig({ init: (net) => udp_init(net) });
    const { lst } = connectPair(r, 443);
    const sm = sockhash('sm');
    t.is(sock_map_update_elem_sys(sm, u32(0), lst.sk, 0), 0);
    const host = net_bpf_host(r.a);
    t.is(runner(engine, LOOKUP(0), { sm }, host)(), 443);
    t.is(runner(engine, LOOKUP(5), { sm }, host)(), MISS);
    // A cookie of no live socket (as a map filled from another worker's stale view may hold).
    asSockMap(sm)!.updateCookie(u32(5), 0, 123456n, 0);
    t.is(runner(engine, LOOKUP(5), { sm }, host)(), MISS);
  });

  test(`${engine}: bpf_map_update_elem with a socket pointer: in it goes, under the program's key`, (t) => {
    const r = rig({ init: (net) => udp_init(net) });
    const { lst } = connectPair(r, 80);
    const sm = sockmap('sm');
    const sh = sockhash('sh', 1);
    t.is(sock_map_update_elem_sys(sm, u32(0), lst.sk, 0), 0);
    const host = net_bpf_host(r.a);
    t.is(runner(engine, COPY(0, 7), { sm, sh }, host)(), 0);
    t.is(asSockMap(sh)!.lookupCookie(u32(7), 0), BigInt(sock_gen_cookie(lst.sk)));
    t.is(runner(engine, COPY(0, 8), { sm, sh }, host)(), -ERRNO.E2BIG, 'the sockhash is full');
    t.is(runner(engine, COPY(0, 7), { sm, sh }, host)(), 0, 'replacing');
  });

  test(`${engine}: with the stack's own update (SockMapHost), a socket a program inserted leaves the map when closed`, (t) => {
    const r = rig({ init: (net) => udp_init(net) });
    const { lst } = connectPair(r, 80);
    const sm = sockmap('sm');
    const sh = sockhash('sh');
    t.is(sock_map_update_elem_sys(sm, u32(0), lst.sk, 0), 0);
    const host = Object.create(net_bpf_host(r.a)) as BpfNetHost & SockMapHost;
    let calls = 0;
    host.sock_map_update_elem = (map, key, keyOff, sk, flags) => {
      calls++;
      return sock_map_update_elem(map, key, keyOff, sk as SockCommon, flags);
    };
    t.is(runner(engine, COPY(0, 7), { sm, sh }, host)(), 0);
    t.is(calls, 1);
    t.is(asSockMap(sh)!.lookupCookie(u32(7), 0), BigInt(sock_gen_cookie(lst.sk)));
    lst.close();
    t.is(asSockMap(sh)!.lookupCookie(u32(7), 0), 0n, 'linked by the program\'s update, unlinked by close');
    t.is(asSockMap(sm)!.lookupCookie(u32(0), 0), 0n);
  });

  test(`${engine}: bpf_map_delete_elem on socket maps: SOCKMAP EINVAL for an empty slot, then the entry goes`, (t) => {
    const r = rig({ init: (net) => udp_init(net) });
    const { lst } = connectPair(r, 80);
    const sm = sockmap('sm');
    t.is(sock_map_update_elem_sys(sm, u32(1), lst.sk, 0), 0);
    const host = net_bpf_host(r.a);
    t.is(runner(engine, DELETE(0), { sm }, host)(), -ERRNO.EINVAL);
    t.is(runner(engine, DELETE(9), { sm }, host)(), -ERRNO.EINVAL);
    t.is(runner(engine, DELETE(1), { sm }, host)(), 0);
    t.is(sm.lookup(u32(1)), undefined);
  });
}

/** Sockets of a made-up stack: just what struct bpf_sock shows. */
interface FakeSock { cookie: bigint; type: number; protocol: number; state: number; port: number; full: boolean }

function fakeHost(socks: FakeSock[]): BpfNetHost {
  const no = (): never => { throw new Error('not in this test'); };
  return {
    netns_id: -1,
    sk_lookup: no,
    sk_release: () => {},
    fill_bpf_sock(sk, dv, off) {
      const s = sk as FakeSock;
      dv.setUint32(off + BPF_SOCK.type, s.type, true);
      dv.setUint32(off + BPF_SOCK.protocol, s.protocol, true);
      dv.setUint32(off + BPF_SOCK.state, s.state, true);
      dv.setUint32(off + BPF_SOCK.src_port, s.port, true);
    },
    fill_bpf_tcp_sock: () => false,
    sk_fullsock: (sk) => ((sk as FakeSock).full ? sk : null),
    sk_cookie: (sk) => (sk as FakeSock).cookie,
    sk_by_cookie: (c) => socks.find((s) => s.cookie === c) ?? null,
    sk_assign_skb: no, sk_assign_lookup: no, tcp_check_syncookie: no, tcp_gen_syncookie: no, fib_lookup: no,
    skb_change_tail: no, skb_ensure_writable: no,
  };
}

for (const engine of ENGINES) {
  test(`${engine}: updates from programs refuse what the kernel refuses (a host without the stack's own update)`, (t) => {
    const socks: FakeSock[] = [
      { cookie: 1n, type: 1, protocol: 6, state: 10, port: 80, full: true }, // TCP listener
      { cookie: 2n, type: 1, protocol: 6, state: 7, port: 0, full: true }, // TCP CLOSE
      { cookie: 3n, type: 2, protocol: 17, state: 7, port: 0, full: true }, // UDP unbound
      { cookie: 4n, type: 2, protocol: 17, state: 7, port: 53, full: true }, // UDP bound
      { cookie: 5n, type: 1, protocol: 6, state: 12, port: 80, full: false }, // a request socket
      { cookie: 6n, type: 3, protocol: 1, state: 7, port: 0, full: true }, // raw ICMP
    ];
    const host = fakeHost(socks);
    const sm = sockmap('sm', 8);
    socks.forEach((s, i) => asSockMap(sm)!.updateCookie(u32(i), 0, s.cookie, 0));
    const copy = (key: number, flagsDst = 20) => {
      const sh = sockhash('sh');
      return [runner(engine, COPY(key, flagsDst), { sm, sh }, host)(), asSockMap(sh)!.lookupCookie(u32(flagsDst), 0)] as const;
    };
    t.deepEqual(copy(0), [0, 1n]);
    t.deepEqual(copy(1), [-ERRNO.EOPNOTSUPP, 0n]);
    t.deepEqual(copy(2), [-ERRNO.EOPNOTSUPP, 0n]);
    t.deepEqual(copy(3), [0, 4n]);
    t.deepEqual(copy(4), [-ERRNO.EINVAL, 0n]);
    t.deepEqual(copy(5), [-ERRNO.EOPNOTSUPP, 0n]);
    t.is(SOCK_SLOT.SOCK, 0);
  });
}
