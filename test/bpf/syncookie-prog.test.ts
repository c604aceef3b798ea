// scenarios/sk/tcp_custom_syncookie.o in vxo, on both engines: it loads (CO-RE and the kfunc extern
// against vxo's kernel BTF) and verifies, and at the server's clsact ingress of two net/ stacks it
// carries whole connections: the SYN is answered by the program (the listener never sees it), the
// cookie ACK becomes a request socket through bpf_sk_assign_tcp_reqsk, accept() returns the
// connection, data flows both ways, and the connection's options are the ones the cookie encodes.
// Test runs give the SYN-ACKs README.md defines. A forged cookie is dropped without leaving state;
// an ACK made under the previous key still makes a connection (with the data it carries); a kfunc
// refusal is counted by errno; the listener's TCP_MAXSEG, read through the tcp_sock BTF pointer,
// caps the MSS. The kernel's side of the same program (its verifier, test runs compared with vxo's,
// real handshakes) is test/kernel/syncookie-prog-kernel.test.ts.
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpBtfC } from '../../bpf-vm/btf/btf-dump-c.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import type { BpfMap } from '../../bpf-vm/maps/map.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRunSkb } from '../../bpf-vm/prog/test-run-skb.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import type { VerifyResult } from '../../bpf-vm/verifier/api.ts';
import { inet_reqsk, reqsk_bpf_live } from '../../net/core/request-sock.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { AF_INET, AF_INET6, IPPROTO_TCP, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { TCP_OPTS } from '../../net/core/socket-options.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import type { TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { tcp_get_info } from '../../net/ipv4/tcp-sockopt.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { qdisc_create_clsact, tc_filter_add, type ClsBpfProg } from '../../net/sched/cls-bpf.ts';
import type { Socket } from '../../net/socket.ts';
import * as P from '../support/packets.ts';
import {
  OBJ, SC, SK_DIR, SC_MSSTAB4, SC_MSSTAB6, SC_SYNACK_WSCALE, SYNCOOKIE_SYNS, TC_ACT_OK, TC_ACT_REDIRECT, TC_ACT_SHOT,
  type SyncookieKey, decodeCookie, expectedSynAck, synAckTsval, synFrame, syncookieBadChecksumSyn, syncookiePassFrames,
  syncookieHash, syncookieIsn, syncookieKeyBytes, u32le,
} from '../support/sk-programs.ts';
import { A, ANY6, B, DropLedger, MSG_DONTWAIT, rx, sa4, sa6, sock, tcp4 } from '../net/support/frames.ts';
import { twoHosts, type TwoHosts } from '../net/support/topology.ts';

const KEY: SyncookieKey = { k0: 0x0123456789abcdefn, k1: 0xfedcba9876543210n };
const OLD_KEY: SyncookieKey = { k0: 0x5555n, k1: 0xaaaan };
const PORT = 80;
const TCPI_OPT_TIMESTAMPS = 1, TCPI_OPT_SACK = 2, TCPI_OPT_WSCALE = 4;

// Loaded and verified once: every test gets its own maps from a fresh load, the verdict is reused.
let verified: VerifyResult | undefined;
function load(): { col: Collection; v: VerifyResult } {
  const col = loadObjectFile(OBJ.syncookie);
  verified ??= verifyProgram(col.program('tcp_custom_syncookie'));
  return { col, v: verified };
}

interface Setup {
  t: TwoHosts;
  col: Collection;
  filter: ClsBpfProg;
  l: Socket;
}

function setup(tc: ExecutionContext, engine: EngineName, family: number, keys: { current: SyncookieKey; previous?: SyncookieKey } = { current: KEY }): Setup {
  const t = twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
  const { col, v } = load();
  const km = map(col, 'syncookie_keys');
  tc.is(km.update(u32le(0), syncookieKeyBytes(keys.current)), 0);
  if (keys.previous) tc.is(km.update(u32le(1), syncookieKeyBytes(keys.previous)), 0);
  tc.is(qdisc_create_clsact(t.devb), 0);
  const f = tc_filter_add(t.devb, 'ingress', col.program('tcp_custom_syncookie'), { engine, verify: v });
  if (typeof f === 'number') throw new Error(`tc filter add: ${f}`);
  const l = sock(t.b, family, SOCK_STREAM);
  if (l.bind(family === AF_INET ? sa4(0, PORT) : sa6(ANY6, PORT)) !== 0 || l.listen(16) !== 0) throw new Error('listen');
  return { t, col, filter: f, l };
}

function map(col: Collection, name: string): BpfMap {
  const m = col.maps.get(name);
  if (m === undefined) throw new Error(`no map ${name}`);
  return m;
}

function stats(col: Collection): bigint[] {
  const m = map(col, 'syncookie_stats');
  const out: bigint[] = [];
  for (let i = 0; i < SC.NR; i++) out.push(Buffer.from(m.lookup(u32le(i))!).readBigUInt64LE(0));
  return out;
}

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Sends `data` from `from` and reads it all at `to`, moving the wire and the clock as needed. */
function transfer(t: TwoHosts, from: Socket, to: Socket, data: Uint8Array): Uint8Array {
  const got: number[] = [];
  const buf = new Uint8Array(65536);
  let sent = 0;
  for (let i = 0; i < 2000 && got.length < data.length; i++) {
    if (sent < data.length) {
      const n = from.send(data.subarray(sent), MSG_DONTWAIT);
      if (n > 0) sent += n;
    }
    t.advance(1);
    for (;;) {
      const n = to.recv(buf, MSG_DONTWAIT);
      if (n <= 0) break;
      for (let k = 0; k < n; k++) got.push(buf[k]!);
    }
  }
  return new Uint8Array(got);
}

function requestsIn(net: Net): number {
  let n = 0;
  for (const chain of net.ipv4.tcp_hashinfo.ehash) for (const s of chain ?? []) if (inet_reqsk(s)) n++;
  return n;
}

/** Nothing of the SYN path ran on the listener, and nothing of the kfunc or the lookups is left over. */
function listenerUntouched(tc: ExecutionContext, t: TwoHosts, l: Socket): void {
  const m = t.b.mib.net;
  tc.is((l.sk as TcpSock).syn_queue_len, 0, 'no request in the SYN queue');
  tc.is(requestsIn(t.b), 0, 'no request socket in ehash');
  tc.is(m.SyncookiesSent, 0);
  tc.is(m.SyncookiesRecv, 0);
  tc.is(m.SyncookiesFailed, 0);
  tc.is(m.ListenOverflows, 0);
  tc.is(m.ListenDrops, 0);
  tc.is(reqsk_bpf_live(t.b), 0, 'every request the kfunc made was taken');
  tc.is(bpf_sock_refs_held(t.b), 0, 'every lookup released');
}

test('scenarios/sk/vmlinux.h is what vxo btf dump --format c writes now (make -C scenarios/sk vmlinux)', (t) => {
  t.is(readFileSync(join(SK_DIR, 'vmlinux.h'), 'utf8'), dumpBtfC(kernelBtf().btf));
});

test('the SYN cookie has one source: syncookie.h, which tcp_custom_syncookie.c and syn_proxy.c include', (t) => {
  const defined = (src: string, fn: string): boolean => new RegExp(`^static[^;(]*\\b${fn}\\(`, 'm').test(src);
  const header = readFileSync(join(SK_DIR, 'syncookie.h'), 'utf8');
  // The server checks the proxy's cookies as its own only while both hash, walk options and build
  // the SYN-ACK with the same code.
  const shared = ['sip_round', 'sip_final', 'parse_option', 'load_headers', 'cookie_hash', 'csum_fold', 'syncookie_handle_syn'];
  for (const fn of shared) t.true(defined(header, fn), `syncookie.h defines ${fn}`);
  for (const file of ['tcp_custom_syncookie.c', 'syn_proxy.c']) {
    const src = readFileSync(join(SK_DIR, file), 'utf8');
    t.regex(src, /^#include "syncookie\.h"$/m, file);
    for (const fn of shared) t.false(defined(src, fn), `${file} has no copy of ${fn}`);
    t.notRegex(src, /^struct syncookie_key \{/m, `${file}: the key's layout is the header's`);
  }
});

for (const engine of ENGINES) {
  test(`${engine}: test runs of SYNs of every shape give the SYN-ACKs README.md defines`, (tc) => {
    const { col, v } = load();
    tc.is(map(col, 'syncookie_keys').update(u32le(0), syncookieKeyBytes(KEY)), 0);
    const prog = col.program('tcp_custom_syncookie');
    for (const c of SYNCOOKIE_SYNS) {
      const r = bpfProgTestRunSkb(prog, { dataIn: synFrame(c), engine, verify: v });
      tc.is(r.retval, TC_ACT_REDIRECT, c.name);
      tc.is(toHex(r.dataOut), toHex(expectedSynAck(c, KEY, synAckTsval(r.dataOut)).frame), c.name);
    }
    const s = stats(col);
    tc.deepEqual([s[SC.SYN], s[SC.SYNACK_SENT], s[SC.SYN_DROPPED]], [BigInt(SYNCOOKIE_SYNS.length), BigInt(SYNCOOKIE_SYNS.length), 0n]);

    // What is not a plain SYN or ACK is the stack's, untouched; a SYN with a corrupt IPv4 header is dropped.
    for (const { name, frame } of syncookiePassFrames()) {
      const r = bpfProgTestRunSkb(prog, { dataIn: frame, engine, verify: v });
      tc.is(r.retval, TC_ACT_OK, name);
      tc.is(toHex(r.dataOut), toHex(frame), name);
    }
    tc.deepEqual(stats(col), s, 'no counter moved');
    tc.is(bpfProgTestRunSkb(prog, { dataIn: syncookieBadChecksumSyn(), engine, verify: v }).retval, TC_ACT_SHOT);
    tc.is(stats(col)[SC.SYN_DROPPED], 1n);
  });

  for (const family of [AF_INET, AF_INET6]) {
    const name = family === AF_INET ? 'IPv4' : 'IPv6';
    test(`${engine} ${name}: a connection through the program's cookie; data both ways; options are the cookie's`, (tc) => {
      const { t, col, filter, l } = setup(tc, engine, family);
      const cli = sock(t.a, family, SOCK_STREAM);
      cli.connect(family === AF_INET ? sa4(t.b4, PORT) : sa6(t.b6, PORT));
      t.advance(3);
      const ctp = cli.sk as TcpSock;
      tc.is(ctp.skc_state, TCP_STATES.TCP_ESTABLISHED, 'client established');
      tc.is(filter.stats.faults, 0);
      const s = stats(col);
      tc.is(s[SC.SYN], 1n, 'the program took the SYN');
      tc.is(s[SC.SYNACK_SENT], 1n);
      tc.is(s[SC.ACK_VALID], 1n);
      tc.is(s[SC.ASSIGNED], 1n, 'and assigned a request on the ACK');
      tc.is(s[SC.ACK_INVALID], 0n);
      tc.is(s.slice(SC.KFUNC_EINVAL, SC.KFUNC_OTHER + 1).reduce((a, b) => a + b, 0n), 0n, 'no kfunc error');

      const srv = l.accept();
      if (typeof srv === 'number') {
        tc.fail(`accept: ${srv}`);
        return;
      }
      const stp = srv.sk as TcpSock;
      tc.is(stp.skc_state, TCP_STATES.TCP_ESTABLISHED);
      listenerUntouched(tc, t, l);

      // The cookie is the README's: the hash of the 4-tuple and the client's ISN, then the options.
      const v4 = family === AF_INET;
      const caddr = v4 ? P.parseIpv4(A.ip4) : P.parseIpv6(A.ip6);
      const saddr = v4 ? P.parseIpv4(B.ip4) : P.parseIpv6(B.ip6);
      const isn = stp.snd_isn >>> 0;
      const f = decodeCookie(isn);
      const hash = syncookieHash(caddr, saddr, ctp.skc_num, PORT, stp.rcv_isn >>> 0, KEY);
      tc.is(isn, syncookieIsn(hash, f), 'the server ISN is the cookie');
      // The client's MSS on a 1500-byte link (1460 / 1440) is an entry of each table.
      tc.deepEqual([f.mssind, stp.rx_opt.mss_clamp], v4 ? [3, SC_MSSTAB4[3]] : [2, SC_MSSTAB6[2]], 'the MSS from the cookie\'s table');
      const i = tcp_get_info(stp);
      tc.is(i.tcpi_options & 7, TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE, 'timestamps, SACK and window scaling, as the SYN offered');
      tc.true(f.sack);
      tc.is(i.tcpi_snd_wscale, f.wscale, 'the client\'s shift, from the cookie');
      tc.is(i.tcpi_rcv_wscale, SC_SYNACK_WSCALE, 'ours, as announced in the SYN-ACK');
      tc.is(tcp_get_info(ctp).tcpi_snd_wscale, SC_SYNACK_WSCALE, 'and the client agrees');

      const up = pattern(3000, 1), down = pattern(2000, 2);
      tc.deepEqual(transfer(t, cli, srv, up), up, 'client -> server');
      tc.deepEqual(transfer(t, srv, cli, down), down, 'server -> client');
      tc.is(stats(col)[SC.SYN], 1n, 'later segments are the stack\'s');
      tc.is(bpf_sock_refs_held(t.b), 0);
    });
  }

  test(`${engine}: a client with no TCP options but MSS: a 24-bit cookie, a connection without them`, (tc) => {
    const { t, col, l } = setup(tc, engine, AF_INET);
    t.a.ipv4.sysctl_tcp_timestamps = 0;
    t.a.ipv4.sysctl_tcp_sack = 0;
    t.a.ipv4.sysctl_tcp_window_scaling = 0;
    const cli = sock(t.a, AF_INET, SOCK_STREAM);
    cli.connect(sa4(t.b4, PORT));
    t.advance(3);
    tc.is(stats(col)[SC.ASSIGNED], 1n);
    const srv = l.accept();
    if (typeof srv === 'number') {
      tc.fail(`accept: ${srv}`);
      return;
    }
    const stp = srv.sk as TcpSock;
    tc.deepEqual(decodeCookie(stp.snd_isn >>> 0), { mssind: 3, ecn: false, sack: false, wscale: 0xf });
    const i = tcp_get_info(stp);
    tc.is(i.tcpi_options & 7, 0);
    tc.is(i.tcpi_snd_mss, SC_MSSTAB4[3], 'no timestamp option to take room');
    const up = pattern(5000, 3);
    tc.deepEqual(transfer(t, cli, srv, up), up);
    listenerUntouched(tc, t, l);
  });

  test(`${engine}: the listener's TCP_MAXSEG, read through the tcp_sock BTF pointer, caps the cookie's MSS`, (tc) => {
    const { t, col, l } = setup(tc, engine, AF_INET);
    tc.is(l.setsockopt(IPPROTO_TCP, TCP_OPTS.TCP_MAXSEG, 1200), 0);
    const cli = sock(t.a, AF_INET, SOCK_STREAM);
    cli.connect(sa4(t.b4, PORT));
    t.advance(3);
    tc.is(stats(col)[SC.ASSIGNED], 1n);
    const srv = l.accept();
    if (typeof srv === 'number') {
      tc.fail(`accept: ${srv}`);
      return;
    }
    tc.is((srv.sk as TcpSock).rx_opt.mss_clamp, 1200);
    tc.is(tcp_get_info(srv.sk as TcpSock).tcpi_snd_mss, 1200 - 12);
  });

  test(`${engine}: a forged cookie is dropped and leaves no state; the previous key still validates, data on the ACK kept`, (tc) => {
    const { t, col, l } = setup(tc, engine, AF_INET, { current: KEY, previous: OLD_KEY });
    const L = new DropLedger().install();
    try {
      const forged = tcp4({ sport: 40000, dport: PORT, seq: 1001, ack: 0xdeadbeef, flags: P.TCP_ACK }, A, B);
      tc.deepEqual(rx(t.devb, forged, L), { kind: 'dropped', reason: 'TC_INGRESS' });
      t.advance(1);
    } finally {
      L.stop();
    }
    let s = stats(col);
    tc.is(s[SC.ACK_INVALID], 1n);
    tc.is(s[SC.ASSIGNED], 0n);
    tc.is(typeof l.accept(), 'number', 'no connection');
    tc.is(t.b.mib.tcp.InSegs, 0, 'the stack never saw it');
    listenerUntouched(tc, t, l);

    // An ACK whose cookie was made under the previous key: valid, a connection is made from it,
    // with the data the ACK carries queued on it.
    const hash = syncookieHash(P.parseIpv4(A.ip4), P.parseIpv4(B.ip4), 40001, PORT, 5000, OLD_KEY);
    const cookie = syncookieIsn(hash, { mssind: 3, ecn: false, sack: false, wscale: 0xf });
    const payload = new TextEncoder().encode('hello');
    const ack = tcp4({ sport: 40001, dport: PORT, seq: 5001, ack: (cookie + 1) >>> 0, flags: P.TCP_ACK | 0x08, payload }, A, B);
    const L2 = new DropLedger().install();
    try {
      rx(t.devb, ack, L2);
      t.advance(1);
    } finally {
      L2.stop();
    }
    s = stats(col);
    tc.is(s[SC.ACK_VALID], 1n);
    tc.is(s[SC.ACK_PREVIOUS_KEY], 1n);
    tc.is(s[SC.ASSIGNED], 1n);
    const srv = l.accept();
    tc.not(typeof srv, 'number', 'the previous key\'s cookie made a connection');
    if (typeof srv !== 'number') {
      const stp = srv.sk as TcpSock;
      tc.is(stp.snd_isn >>> 0, cookie);
      tc.is(stp.rx_opt.mss_clamp, SC_MSSTAB4[3]);
      tc.is(tcp_get_info(stp).tcpi_options & 7, 0, 'no options: the cookie said none');
      const buf = new Uint8Array(16);
      tc.is(srv.recv(buf, MSG_DONTWAIT), payload.length);
      tc.deepEqual(buf.subarray(0, payload.length), payload, 'the ACK\'s data');
    }
  });

  test(`${engine}: the kfunc's refusal (SACK in the cookie, tcp_sack=0 on the server) is counted by errno and leaves no state`, (tc) => {
    const { t, col, l } = setup(tc, engine, AF_INET);
    t.b.ipv4.sysctl_tcp_sack = 0;
    const cli = sock(t.a, AF_INET, SOCK_STREAM);
    cli.connect(sa4(t.b4, PORT));
    t.advance(3);
    const s = stats(col);
    tc.is(s[SC.SYNACK_SENT], 1n);
    tc.true(s[SC.ACK_VALID]! >= 1n, 'the cookie was good');
    tc.is(s[SC.KFUNC_EINVAL], s[SC.ACK_VALID], 'every call refused with EINVAL');
    tc.is(s[SC.ASSIGNED], 0n);
    tc.is(typeof l.accept(), 'number', 'no connection');
    listenerUntouched(tc, t, l);
  });
}
