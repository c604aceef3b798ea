// NetBpfHost (net/core/filter.ts) against real sockets of a running stack: the lookup helpers
// (bpf_sk_lookup_tcp/udp, bpf_skc_lookup_tcp) for listeners, established, request, TIME_WAIT and
// UDP sockets, IPv4 and IPv6, with the netns argument's rules and the reference discipline;
// struct bpf_sock / bpf_tcp_sock as a program reads them; socket cookies.
import test from 'ava';
import { BPF_SK_LOOKUP_KIND as K } from '../../bpf-vm/prog/sock-host.ts';
import { BPF_SOCK, BPF_SOCK_SIZE, BPF_TCP_SOCK, BPF_TCP_SOCK_SIZE } from '../../bpf-vm/prog/bpf-sock.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import type { In6Addr } from '../../net/core/in6-addr.ts';
import { SK_PASS, type BpfSkLookupKern } from '../../net/core/sk-lookup.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { SOL_SOCKET, SO } from '../../net/core/socket-options.ts';
import type { SockCommon } from '../../net/core/sock-common.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import * as P from '../support/packets.ts';
import { B, established, sa4, sa6, sock, tcp4, tcp6, victim, type End, type Victim } from './support/frames.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';

const CUR = -1n;

export function tuple4(saddr: number, sport: number, daddr: number, dport: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, saddr >>> 0);
  v.setUint32(4, daddr >>> 0);
  v.setUint16(8, sport);
  v.setUint16(10, dport);
  return b;
}

export function tuple6(saddr: In6Addr, sport: number, daddr: In6Addr, dport: number): Uint8Array {
  const b = new Uint8Array(36);
  const v = new DataView(b.buffer);
  [saddr.w0, saddr.w1, saddr.w2, saddr.w3, daddr.w0, daddr.w1, daddr.w2, daddr.w3].forEach((w, i) => v.setUint32(4 * i, w >>> 0));
  v.setUint16(32, sport);
  v.setUint16(34, dport);
  return b;
}

function caller(v: Victim): { ifindex: number; skb: null } {
  return { ifindex: v.t.devb.ifindex, skb: null };
}

function bpfSock(v: Victim, sk: object): DataView {
  const dv = new DataView(new ArrayBuffer(BPF_SOCK_SIZE));
  net_bpf_host(v.t.b).fill_bpf_sock(sk, dv, 0);
  return dv;
}

/** A third host on the wire that never answers (b's SYN-ACK waits on ARP/ND for it). */
export const C: End = { mac: '02:00:00:00:00:03', ip4: '10.0.0.3', ip6: 'fd00::3' };

/** A SYN from C into b's listener on 80, the handshake left unfinished: a request socket in b's ehash. */
function halfOpen(v: Victim, family: number, sport: number): void {
  v.feed(family === AF_INET ? tcp4({ sport, dport: 80, flags: P.TCP_SYN, seq: 5000 }, C, B) : tcp6({ sport, dport: 80, flags: P.TCP_SYN, seq: 5000 }, C, B));
}

function tupC(v: Victim, family: number, sport: number, dport: number): Uint8Array {
  return family === AF_INET ? tuple4(inet_pton4(C.ip4), sport, v.t.b4, dport) : tuple6(inet_pton6(C.ip6), sport, v.t.b6, dport);
}

for (const family of [AF_INET, AF_INET6]) {
  const fam = family === AF_INET ? 'v4' : 'v6';
  const tup = (v: Victim, sport: number, dport: number): Uint8Array =>
    family === AF_INET ? tuple4(v.t.a4, sport, v.t.b4, dport) : tuple6(v.t.a6, sport, v.t.b6, dport);

  test(`sk_lookup ${fam}: listener, established, request and TIME_WAIT sockets; references taken only on ehash hits`, (t) => {
    const v = victim();
    const host = net_bpf_host(v.t.b);
    const l = family === AF_INET ? v.l4 : v.l6;
    // A SYN's tuple: no connection, the listener; RCU-freed, so no reference.
    t.is(host.sk_lookup(caller(v), K.SK_TCP, family, tup(v, 40000, 80), CUR), l.sk);
    t.is(host.sk_lookup(caller(v), K.SKC_TCP, family, tup(v, 40000, 80), CUR), l.sk);
    t.is(bpf_sock_refs_held(v.t.b), 0);
    t.is(host.sk_lookup(caller(v), K.SK_TCP, family, tup(v, 40000, 81), CUR), null, 'no socket on 81');
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 40000, 80), CUR), null, 'no UDP socket on 80');

    const { srv, cli, stp, cport } = established(v, family);
    const e = host.sk_lookup(caller(v), K.SK_TCP, family, tup(v, cport, 80), CUR);
    t.is(e, stp, 'the established socket');
    t.is(bpf_sock_refs_held(v.t.b), 1, 'an ehash hit holds a reference');
    host.sk_release(e!);
    t.is(bpf_sock_refs_held(v.t.b), 0);
    host.sk_release(l.sk);
    t.is(bpf_sock_refs_held(v.t.b), 0, 'releasing a listener drops nothing');

    halfOpen(v, family, 41000);
    const req = host.sk_lookup(caller(v), K.SKC_TCP, family, tupC(v, family, 41000, 80), CUR) as SockCommon | null;
    t.is(req?.skc_state, TCP_STATES.TCP_NEW_SYN_RECV, 'skc_lookup returns the request socket');
    t.is(bpf_sock_refs_held(v.t.b), 1);
    t.is(host.sk_fullsock(req!), l.sk, 'its full socket is the listener');
    host.sk_release(req!);
    t.is(host.sk_lookup(caller(v), K.SK_TCP, family, tupC(v, family, 41000, 80), CUR), l.sk, 'sk_lookup maps a request socket to its listener');
    t.is(bpf_sock_refs_held(v.t.b), 0, 'the request reference is dropped, the listener takes none');

    // The server closes first: its end goes to TIME_WAIT.
    srv.close();
    v.t.advance(5);
    cli.close();
    v.t.advance(5);
    const tw = host.sk_lookup(caller(v), K.SKC_TCP, family, tup(v, cport, 80), CUR) as SockCommon | null;
    t.is(tw?.skc_state, TCP_STATES.TCP_TIME_WAIT, 'skc_lookup returns the TIME_WAIT socket');
    t.is(host.sk_fullsock(tw!), null);
    host.sk_release(tw!);
    t.is(host.sk_lookup(caller(v), K.SK_TCP, family, tup(v, cport, 80), CUR), null, 'sk_lookup: TIME_WAIT is no full socket');
    t.is(bpf_sock_refs_held(v.t.b), 0);
    v.stop();
  });

  test(`sk_lookup ${fam}: UDP sockets, the netns argument, the bound device, SK_LOOKUP inside the helper`, (t) => {
    const v = victim();
    const host = net_bpf_host(v.t.b);
    const u = family === AF_INET ? v.u4 : v.u6;
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 4000, 5000), CUR), u.sk);
    t.is(bpf_sock_refs_held(v.t.b), 0, 'UDP sockets are RCU-freed');
    t.is(host.sk_lookup(caller(v), K.SK_TCP, family, tup(v, 4000, 5000), CUR), null);

    // (s32)netns < 0 is the caller's netns; 0..S32_MAX an id this netns must have; beyond, nothing.
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 4000, 5000), 0xffffffffn), u.sk, 'low 32 bits -1: current');
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 4000, 5000), -5n), u.sk);
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 4000, 5000), 0n), null, 'no id assigned');
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 4000, 5000), 0x100000000n), null, 'reserved');
    host.netns_id = 3;
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 4000, 5000), 3n), u.sk, 'its own id');
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 4000, 5000), 4n), null, 'another netns id');
    host.netns_id = -1;

    // Another machine's host never finds b's sockets.
    t.is(net_bpf_host(v.t.a).sk_lookup({ ifindex: v.t.deva.ifindex, skb: null }, K.SK_UDP, family, tup(v, 4000, 5000), CUR), null);

    // A socket bound to the device answers only lookups whose caller is that device.
    const d = sock(v.t.b, family, SOCK_DGRAM);
    t.is(d.setsockopt(SOL_SOCKET, SO.SO_BINDTODEVICE, 'veth0'), 0);
    t.is(d.bind(family === AF_INET ? sa4(0, 6000) : sa6(v.t.b6, 6000)), 0);
    t.is(host.sk_lookup(caller(v), K.SK_UDP, family, tup(v, 4000, 6000), CUR), d.sk);
    t.is(host.sk_lookup({ ifindex: 1, skb: null }, K.SK_UDP, family, tup(v, 4000, 6000), CUR), null, 'from lo: not its device');

    // SK_LOOKUP programs run inside the helper's lookup, as in the stack's.
    const proxy = sock(v.t.b, family, SOCK_STREAM);
    t.is(proxy.bind(family === AF_INET ? sa4(0, 9000) : sa6(v.t.b6, 9000)), 0);
    t.is(proxy.listen(8), 0);
    const seen: number[] = [];
    v.t.b.sk_lookup.attach({
      run(ctx: BpfSkLookupKern): number {
        seen.push(ctx.dport);
        ctx.selected_sk = proxy.sk;
        return SK_PASS;
      },
    });
    t.is(host.sk_lookup(caller(v), K.SK_TCP, family, tup(v, 40000, 80), CUR), proxy.sk);
    t.deepEqual(seen, [80]);
    v.stop();
  });

  test(`fill_bpf_sock ${fam}: a full socket, a request socket and a TIME_WAIT socket as a program reads them`, (t) => {
    const v = victim();
    const host = net_bpf_host(v.t.b);
    const { stp, cport, srv, cli } = established(v, family);
    stp.sk_mark = 0x1234;
    stp.sk_priority = 6;
    let dv = bpfSock(v, stp);
    t.is(dv.getUint32(BPF_SOCK.family, true), family);
    t.is(dv.getUint32(BPF_SOCK.type, true), SOCK_STREAM);
    t.is(dv.getUint32(BPF_SOCK.protocol, true), 6);
    t.is(dv.getUint32(BPF_SOCK.mark, true), 0x1234);
    t.is(dv.getUint32(BPF_SOCK.priority, true), 6);
    t.is(dv.getUint32(BPF_SOCK.src_port, true), 80, 'src_port: host order');
    t.is(dv.getUint16(BPF_SOCK.dst_port, false), cport, 'dst_port: network order');
    t.is(dv.getUint32(BPF_SOCK.dst_port, true), ((cport & 0xff) << 8) | (cport >>> 8), 'a 4-byte load at 48 gives the __be16');
    t.is(dv.getUint32(BPF_SOCK.state, true), TCP_STATES.TCP_ESTABLISHED);
    t.is(dv.getInt32(BPF_SOCK.rx_queue_mapping, true), -1);
    if (family === AF_INET) {
      t.is(dv.getUint32(BPF_SOCK.src_ip4, false), v.t.b4, 'network order');
      t.is(dv.getUint32(BPF_SOCK.dst_ip4, false), v.t.a4);
      t.deepEqual([0, 4, 8, 12].map((i) => dv.getUint32(BPF_SOCK.src_ip6 + i, false)), [0, 0, 0xffff, v.t.b4], 'a connected AF_INET TCP socket: v4-mapped');
      const lv = bpfSock(v, v.l4.sk);
      t.is(lv.getUint32(BPF_SOCK.src_ip6 + 8, false), 0, 'a listener: none');
    } else {
      t.deepEqual([0, 4, 8, 12].map((i) => dv.getUint32(BPF_SOCK.src_ip6 + i, false)), [v.t.b6.w0, v.t.b6.w1, v.t.b6.w2, v.t.b6.w3]);
      t.deepEqual([0, 4, 8, 12].map((i) => dv.getUint32(BPF_SOCK.dst_ip6 + i, false)), [v.t.a6.w0, v.t.a6.w1, v.t.a6.w2, v.t.a6.w3]);
    }

    // A listener and an unconnected UDP socket, bound to the wildcard.
    dv = bpfSock(v, (family === AF_INET ? v.l4 : v.l6).sk);
    t.is(dv.getUint32(BPF_SOCK.state, true), TCP_STATES.TCP_LISTEN);
    t.is(dv.getUint32(BPF_SOCK.src_ip4, false), 0);
    t.is(dv.getUint32(BPF_SOCK.dst_port, true), 0);
    dv = bpfSock(v, (family === AF_INET ? v.u4 : v.u6).sk);
    t.deepEqual([BPF_SOCK.type, BPF_SOCK.protocol, BPF_SOCK.state, BPF_SOCK.src_port].map((o) => dv.getUint32(o, true)), [SOCK_DGRAM, 17, TCP_STATES.TCP_CLOSE, 5000]);

    halfOpen(v, family, 41000);
    const req = host.sk_lookup(caller(v), K.SKC_TCP, family, tupC(v, family, 41000, 80), CUR)!;
    dv = bpfSock(v, req);
    t.is(dv.getUint32(BPF_SOCK.state, true), TCP_STATES.TCP_NEW_SYN_RECV);
    t.is(dv.getUint32(BPF_SOCK.src_port, true), 80);
    t.is(dv.getUint16(BPF_SOCK.dst_port, false), 41000);
    t.is(dv.getUint32(BPF_SOCK.type, true), 0, 'sock_common only');
    host.sk_release(req);

    srv.close();
    v.t.advance(5);
    cli.close();
    v.t.advance(5);
    const tw = host.sk_lookup(caller(v), K.SKC_TCP, family, tup(v, cport, 80), CUR)!;
    dv = bpfSock(v, tw);
    t.is(dv.getUint32(BPF_SOCK.state, true), TCP_STATES.TCP_TIME_WAIT);
    t.is(dv.getUint32(BPF_SOCK.family, true), family);
    t.is(dv.getUint16(BPF_SOCK.dst_port, false), cport);
    t.is(dv.getUint32(BPF_SOCK.protocol, true), 0);
    host.sk_release(tw);
    t.is(bpf_sock_refs_held(v.t.b), 0);
    v.stop();
  });
}

test('fill_bpf_tcp_sock: the TCP socket\'s counters; false for UDP and request sockets', (t) => {
  const v = victim();
  const host = net_bpf_host(v.t.b);
  const { stp, srv, cli } = established(v);
  cli.send(new Uint8Array(100));
  v.t.advance(5);
  const dv = new DataView(new ArrayBuffer(BPF_TCP_SOCK_SIZE));
  t.true(host.fill_bpf_tcp_sock(stp, dv, 0));
  t.is(dv.getUint32(BPF_TCP_SOCK.snd_cwnd, true), stp.snd_cwnd);
  t.is(dv.getUint32(BPF_TCP_SOCK.rcv_nxt, true), stp.rcv_nxt);
  t.is(dv.getUint32(BPF_TCP_SOCK.snd_nxt, true), stp.snd_nxt);
  t.is(dv.getUint32(BPF_TCP_SOCK.snd_una, true), stp.snd_una);
  t.is(dv.getUint32(BPF_TCP_SOCK.mss_cache, true), stp.mss_cache);
  t.is(dv.getUint32(BPF_TCP_SOCK.segs_in, true), stp.segs_in);
  t.is(dv.getUint32(BPF_TCP_SOCK.data_segs_in, true), 1);
  t.is(dv.getBigUint64(BPF_TCP_SOCK.bytes_received, true), 100n);
  t.is(dv.getUint32(BPF_TCP_SOCK.rtt_min, true), 0xffffffff, 'no windowed minimum is kept');
  t.false(host.fill_bpf_tcp_sock(v.u4.sk, dv, 0));
  halfOpen(v, AF_INET, 41000);
  const req = host.sk_lookup(caller(v), K.SKC_TCP, AF_INET, tupC(v, AF_INET, 41000, 80), CUR)!;
  t.false(host.fill_bpf_tcp_sock(req, dv, 0));
  host.sk_release(req);
  void srv;
  v.stop();
});

test('socket cookies: sk_cookie names a socket, sk_by_cookie finds it in its netns only, and not once it is destroyed', (t) => {
  const v = victim();
  const host = net_bpf_host(v.t.b);
  const { stp, srv, cli, ctp } = established(v);
  const c = host.sk_cookie(stp);
  t.true(c > 0n);
  t.is(host.sk_cookie(stp), c, 'stable');
  t.is(host.sk_by_cookie(c), stp);
  t.is(host.sk_by_cookie(host.sk_cookie(v.u4.sk)), v.u4.sk);
  t.is(host.sk_by_cookie(0n), null);
  t.is(host.sk_by_cookie(c + 1000n), null);
  const ca = net_bpf_host(v.t.a).sk_cookie(ctp);
  t.not(host.sk_by_cookie(ca), ctp, 'never the other machine\'s socket (each boot numbers its own)');
  t.is(net_bpf_host(v.t.a).sk_by_cookie(ca), ctp);
  // The UDP socket closes: gone at once.
  const uc = host.sk_cookie(v.u4.sk);
  v.u4.close();
  t.is(host.sk_by_cookie(uc), null);
  // The server side closes first and is destroyed (its TIME_WAIT socket carries the cookie, but is no full socket).
  srv.close();
  v.t.advance(5);
  cli.close();
  v.t.advance(5);
  t.is(host.sk_by_cookie(c), null);
  v.stop();
});


test('socket cookies: a closed listener is gone too', (t) => {
  const v = victim();
  const host = net_bpf_host(v.t.b);
  const c = host.sk_cookie(v.l4.sk);
  t.is(host.sk_by_cookie(c), v.l4.sk);
  v.l4.close();
  t.is(host.sk_by_cookie(c), null);
  v.stop();
});
