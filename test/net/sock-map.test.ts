// The stack side of SOCKMAP and SOCKHASH (net/core/sock-map.ts) with real sockets of two stacks:
// which sockets may go in (TCP listeners and established sockets, bound or connected UDP), the
// kernel's refusals (EOPNOTSUPP for other TCP states and unbound UDP, EINVAL for no socket or
// another map type),
// user-space lookups returning the socket's cookie, and sockets leaving every map when closed
// (close(2), or destroyed as a listener's unaccepted child), but not merely when reset.
import test from 'ava';
import { connectPair, rig, tcpSocket, type Rig } from './tcp-harness.ts';
import { Socket } from '../../net/socket.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM } from '../../net/core/socket-constants.ts';
import { SO, SOL_SOCKET } from '../../net/core/socket-options.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { sock_gen_cookie, sock_diag_lookup } from '../../net/core/sock-diag.ts';
import {
  sock_map_delete_elem_sys, sock_map_links, sock_map_update_elem, sock_map_update_elem_sys,
} from '../../net/core/sock-map.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import { BPF_MAP_TYPE as T, type BpfMap } from '../../bpf-vm/maps/map.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import type { TcpSock } from '../../net/ipv4/tcp-sock.ts';

const { EINVAL, EOPNOTSUPP, EEXIST, E2BIG, ENOENT } = ERRNO;

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

const sockmap = (n = 8): BpfMap => createMap({ name: 'sockmap', type: T.BPF_MAP_TYPE_SOCKMAP, keySize: 4, valueSize: 8, maxEntries: n, flags: 0 });
const sockhash = (n = 8): BpfMap => createMap({ name: 'sockhash', type: T.BPF_MAP_TYPE_SOCKHASH, keySize: 4, valueSize: 8, maxEntries: n, flags: 0 });

/** The cookie a user-space lookup returns, as a number (or the miss). */
function cookieAt(m: BpfMap, key: number): number | undefined {
  const v = m.lookup(u32(key));
  return v === undefined ? undefined : Number(new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true));
}

function tcpUdpRig(): Rig {
  return rig({ init: (net) => udp_init(net) });
}

/** A UDP socket of host a, bound to an ephemeral port unless `bound` is false. */
function udpSocket(r: Rig, family: number = AF_INET, bound = true): Socket {
  const s = Socket.create(r.a, family, SOCK_DGRAM);
  if (typeof s === 'number') throw new Error(`socket: ${s}`);
  const any = family === AF_INET6 ? { family: AF_INET6 as typeof AF_INET6, addr: { w0: 0, w1: 0, w2: 0, w3: 0 }, port: 0 } : { family: AF_INET as typeof AF_INET, addr: 0, port: 0 };
  if (bound && s.bind(any) !== 0) throw new Error('bind');
  return s;
}

test('a listener, both ends of a connection and bound or connected UDP sockets go in; lookups return their cookies', (t) => {
  const r = tcpUdpRig();
  const { lst, cli, srv } = connectPair(r);
  const m = sockmap();
  const h = sockhash();
  const u1 = udpSocket(r);
  const u2 = udpSocket(r, AF_INET, false);
  t.is(u2.bind({ family: AF_INET, addr: 0, port: 5353 }), 0);
  const u3 = udpSocket(r, AF_INET, false);
  t.is(u3.connect({ family: AF_INET, addr: r.b4, port: 53 }), 0);
  const socks = [lst, srv, cli, u1, u2, u3];
  socks.forEach((s, i) => t.is(sock_map_update_elem_sys(m, u32(i), s.sk, 0), 0, `socket ${i}`));
  socks.forEach((s, i) => t.is(sock_map_update_elem_sys(h, u32(100 + i), s.sk, 0), 0, `socket ${i}`));
  socks.forEach((s, i) => {
    const c = sock_gen_cookie(s.sk);
    t.is(cookieAt(m, i), c);
    t.is(cookieAt(h, 100 + i), c);
    t.is(sock_diag_lookup(s.sk.skc_net, c), s.sk, 'the cookie names the socket');
  });
  t.is(lst.sk.skc_state, TCP_STATES.TCP_LISTEN);
  t.is(srv.sk.skc_state, TCP_STATES.TCP_ESTABLISHED);
  t.deepEqual(sock_map_links(lst.sk).map((l) => [l.map.spec.name, toHex(l.key)]), [['sockmap', '00000000'], ['sockhash', '64000000']]);
  t.is(dumpMap(m).length, 6);
});

test('IPv6 TCP and UDP sockets go in too', (t) => {
  const r = tcpUdpRig();
  const { lst, srv } = connectPair(r, 8080, AF_INET6);
  const m = sockhash();
  t.is(sock_map_update_elem_sys(m, u32(1), lst.sk, 0), 0);
  t.is(sock_map_update_elem_sys(m, u32(2), srv.sk, 0), 0);
  t.is(sock_map_update_elem_sys(m, u32(3), udpSocket(r, AF_INET6).sk, 0), 0);
  t.is(dumpMap(m).length, 3);
});

test('TCP sockets neither ESTABLISHED nor LISTEN and unbound UDP sockets are refused with EOPNOTSUPP; no socket or another map type is EINVAL', (t) => {
  const r = tcpUdpRig();
  const m = sockmap();
  const fresh = tcpSocket(r.a);
  t.is(fresh.sk.skc_state, TCP_STATES.TCP_CLOSE);
  t.is(sock_map_update_elem_sys(m, u32(0), fresh.sk, 0), -EOPNOTSUPP);
  const bound = tcpSocket(r.a);
  t.is(bound.bind({ family: AF_INET, addr: 0, port: 9000 }), 0);
  t.is(sock_map_update_elem_sys(m, u32(0), bound.sk, 0), -EOPNOTSUPP, 'bound, not listening');
  const connecting = tcpSocket(r.b);
  t.is(connecting.connect({ family: AF_INET, addr: r.a4, port: 9999 }), -115);
  t.is(connecting.sk.skc_state, TCP_STATES.TCP_SYN_SENT);
  t.is(sock_map_update_elem_sys(m, u32(0), connecting.sk, 0), -EOPNOTSUPP);
  // The peer closed: CLOSE_WAIT is refused.
  const { cli, srv } = connectPair(r, 81);
  cli.close();
  r.pump();
  t.is(srv.sk.skc_state, TCP_STATES.TCP_CLOSE_WAIT);
  t.is(sock_map_update_elem_sys(m, u32(0), srv.sk, 0), -EOPNOTSUPP);
  t.is(sock_map_update_elem_sys(m, u32(0), udpSocket(r, AF_INET, false).sk, 0), -EOPNOTSUPP, 'unbound UDP');
  t.is(sock_map_update_elem_sys(m, u32(0), udpSocket(r, AF_INET6, false).sk, 0), -EOPNOTSUPP, 'unbound UDPv6');
  t.is(sock_map_update_elem_sys(m, u32(0), null, 0), -EINVAL);
  const hash = createMap({ name: 'h', type: T.BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 });
  const lst = tcpSocket(r.a);
  lst.bind({ family: AF_INET, addr: 0, port: 82 });
  lst.listen(8);
  t.is(sock_map_update_elem_sys(hash, u32(0), lst.sk, 0), -EINVAL);
  t.is(dumpMap(m).length, 0, 'nothing went in');
  // The socket checks come before the map's: a refused socket is EOPNOTSUPP even past max_entries.
  t.is(sock_map_update_elem_sys(m, u32(99), fresh.sk, 0), -EOPNOTSUPP);
  t.is(sock_map_update_elem_sys(m, u32(99), lst.sk, 0), -E2BIG);
  t.is(sock_map_update_elem_sys(m, u32(0), lst.sk, 3), -EINVAL);
  t.is(sock_map_update_elem_sys(m, u32(0), fresh.sk, 3), -EOPNOTSUPP, 'flags are the map\'s to check, after the socket');
  t.is(sock_map_update_elem_sys(m, u32(0), fresh.sk, 4), -EINVAL, 'BPF_F_LOCK is refused before anything');
});

test('update flags against present entries, and delete from user space', (t) => {
  const r = tcpUdpRig();
  const a = udpSocket(r);
  const b = udpSocket(r);
  for (const m of [sockmap(4), sockhash(4)]) {
    t.is(sock_map_update_elem_sys(m, u32(1), a.sk, 1), 0);
    t.is(sock_map_update_elem_sys(m, u32(1), b.sk, 1), -EEXIST);
    t.is(sock_map_update_elem_sys(m, u32(2), b.sk, 2), -ENOENT);
    t.is(sock_map_update_elem_sys(m, u32(1), b.sk, 2), 0);
    t.is(cookieAt(m, 1), sock_gen_cookie(b.sk));
    t.is(sock_map_delete_elem_sys(m, u32(1)), 0);
    t.is(sock_map_delete_elem_sys(m, u32(1)), m.spec.type === T.BPF_MAP_TYPE_SOCKMAP ? -EINVAL : -ENOENT);
  }
});

test('close(2) takes a socket out of every map and key it is in, and only its own entries', (t) => {
  const r = tcpUdpRig();
  const { lst, cli, srv } = connectPair(r);
  const m = sockmap();
  const h = sockhash();
  const u = udpSocket(r);
  t.is(sock_map_update_elem_sys(m, u32(0), srv.sk, 0), 0);
  t.is(sock_map_update_elem_sys(m, u32(1), srv.sk, 0), 0);
  t.is(sock_map_update_elem_sys(h, u32(7), srv.sk, 0), 0);
  t.is(sock_map_update_elem_sys(m, u32(2), lst.sk, 0), 0);
  t.is(sock_map_update_elem_sys(m, u32(3), u.sk, 0), 0);
  t.is(sock_map_update_elem_sys(h, u32(8), u.sk, 0), 0);
  // Key 1 now names the listener: closing srv must leave it.
  t.is(sock_map_update_elem_sys(m, u32(1), lst.sk, 0), 0);
  t.is(srv.close(), 0);
  t.is(cookieAt(m, 0), undefined);
  t.is(cookieAt(m, 1), sock_gen_cookie(lst.sk));
  t.is(cookieAt(h, 7), undefined);
  t.deepEqual(sock_map_links(srv.sk), []);
  t.is(u.close(), 0);
  t.is(cookieAt(m, 3), undefined);
  t.is(cookieAt(h, 8), undefined);
  t.is(lst.close(), 0);
  t.deepEqual(dumpMap(m), []);
  t.deepEqual(dumpMap(h), []);
  cli.close();
  r.advance(1000);
});

test('a reset connection stays in its map until it is closed (no unhash hook since Linux 6.2)', (t) => {
  const r = tcpUdpRig();
  const { cli, srv } = connectPair(r);
  const m = sockmap();
  t.is(sock_map_update_elem_sys(m, u32(0), srv.sk, 0), 0);
  const linger0 = new Uint8Array(8);
  new DataView(linger0.buffer).setInt32(0, 1, true);
  t.is(cli.setsockopt(SOL_SOCKET, SO.SO_LINGER, linger0), 0);
  cli.close();
  r.pump();
  t.is(srv.sk.skc_state, TCP_STATES.TCP_CLOSE, 'reset by the peer');
  t.is(cookieAt(m, 0), sock_gen_cookie(srv.sk));
  srv.close();
  t.is(cookieAt(m, 0), undefined);
});

test('a child never accepted leaves its maps when the listener\'s close destroys it (sock_map_destroy)', (t) => {
  const r = tcpUdpRig();
  const lst = tcpSocket(r.a);
  t.is(lst.bind({ family: AF_INET, addr: 0, port: 90 }), 0);
  t.is(lst.listen(8), 0);
  const cli = tcpSocket(r.b);
  cli.connect({ family: AF_INET, addr: r.a4, port: 90 });
  r.pump();
  const child = (lst.sk as TcpSock).icsk_accept_queue[0];
  if (child === undefined) return t.fail('no child in the accept queue');
  const m = sockhash();
  // Only a program can insert a socket nobody holds an fd of (bpf_map_update_elem's path).
  t.is(sock_map_update_elem(m, u32(5), 0, child, 0), 0);
  t.is(cookieAt(m, 5), sock_gen_cookie(child));
  lst.close();
  r.pump();
  t.is(cookieAt(m, 5), undefined);
});
