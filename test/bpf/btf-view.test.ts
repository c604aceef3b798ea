// BTF-typed pointers at run time (interp/btf-views.ts) and the bpf_skc_to_* casts, on both engines:
// - a view's bytes are the struct's kernel layout filled from vxo's object: numbers by size and
//   sign, __be fields swapped, bitfields, In6Addr, pointer members (a view of the pointee; cycles
//   end), only the fields the verifier's btfReads name; emptied with its socket and at the end;
// - a tc program at a server's clsact ingress (two net/ stacks) that looks the socket of each
//   segment up with bpf_skc_lookup_tcp, casts it and reads struct tcp_sock fields (state, ports,
//   v4 and v6 addresses, a bitfield, mss): the values are vxo's socket's, v6 addresses as the
//   kernel sets them;
// - PROBE_MEM: a load through a NULL or released BTF pointer reads 0 where the verifier marked it;
// - references shared by the cast, the socket helpers taking a BTF pointer, each cast's kinds of
//   socket, a request socket and its listener pointer, bpf_probe_read_kernel (BPF_CORE_READ in
//   test/fixtures/btf/core_sk.o).
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { ENGINES, createEngine, type EngineName } from '../../bpf-vm/engines.ts';
import { ExecEnv } from '../../bpf-vm/interp/env.ts';
import { REGION_ID, regionTag } from '../../bpf-vm/interp/regions.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../../bpf-vm/maps/map.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { prepareProgram } from '../../bpf-vm/prog/prepare.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { SkbProgramRunner } from '../../bpf-vm/prog/skb-runner.ts';
import { bpfProgTestRunSkb } from '../../bpf-vm/prog/test-run-skb.ts';
import { BPF_PROG_TYPE, type ProgType } from '../../bpf-vm/prog/types.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import type { InsnFacts } from '../../bpf-vm/verifier/api.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { In6Addr } from '../../net/core/in6-addr.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import type { TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { qdisc_create_clsact, tc_filter_add } from '../../net/sched/cls-bpf.ts';
import type { Socket } from '../../net/socket.ts';
import { ANY6, sa4, sa6, sock, MSG_DONTWAIT } from '../net/support/frames.ts';
import { twoHosts, type TwoHosts } from '../net/support/topology.ts';
import * as P from '../support/packets.ts';
import { asmTcProgram, btfFieldOffset, mapSlot0Asm, SKC_LOOKUP_ASM, sockTupleAsm, tcpFrameCheckAsm } from '../support/tc-asm.ts';
import {
  FakeHost, fakeSkb, fakeSock, IPPROTO_TCP, IPPROTO_UDP, TCP_CLOSE, TCP_ESTABLISHED, type FakeSock,
} from './sk-fake-host.ts';

const KB = kernelBtf();
const TCP_SOCK = KB.typeId('tcp_sock', 'struct')!;

/** The byte offset of a struct tcp_sock field (or another struct's) by its C path. */
const off = (path: string, struct = 'tcp_sock'): number => btfFieldOffset(struct, path);

const SK = 'inet_conn.icsk_inet.sk.__sk_common.';

// ---------------------------------------------------------------------------------------------
// The views themselves, on plain objects shaped like vxo's.

class FakeTcp {
  skc_daddr = 0x0a000001;
  skc_rcv_saddr = 0x0a000002;
  skc_dport = 40000;
  skc_num = 80;
  skc_family: number = AF_INET6;
  skc_state = 1;
  skc_reuseport = true;
  skc_v6_daddr = new In6Addr(0xfd000000, 0, 0, 1);
  /** ipv6_pinfo.saddr: vxo's Sock is its own ipv6_pinfo. */
  v6_saddr = new In6Addr(0xfd000000, 0, 0, 2);
  skc_cookie = 0x1_2345_6789;
  uc_ttl = -1;
  inet_sport = 80;
  mss_cache = 1448;
  snd_cwnd_clamp = 0xffffffff;
  bytes_received = 2 ** 40 + 5;
  rx_opt = { snd_wscale: 7, rcv_wscale: 9, sack_ok: true, tstamp_ok: false, wscale_ok: true };
  /** The listener, as vxo's RequestSock holds it: a pointer member whose pointee points back. */
  rsk_listener: FakeTcp | null = null;
}

function viewEnv(): ExecEnv {
  return new ExecEnv([]);
}

function bytesOf(env: ExecEnv, hi: number): DataView {
  return env.regions[hi & 0xffff]!.dv;
}

test('a view holds the kernel layout: sizes, signs, __be swapped, bitfields, In6Addr, u64', (t) => {
  const env = viewEnv();
  const o = new FakeTcp();
  const hi = env.socks.views.make(o, TCP_SOCK, -1, 0);
  const dv = bytesOf(env, hi);
  t.is(env.regions[hi & 0xffff]!.hi, KB.struct(TCP_SOCK)!.size, 'the whole struct is readable');
  t.is(dv.getUint32(off(`${SK}skc_daddr`), false), 0x0a000001, '__be32 in network order');
  t.is(dv.getUint16(off(`${SK}skc_dport`), false), 40000, '__be16 in network order');
  t.is(dv.getUint16(off(`${SK}skc_num`), true), 80, 'u16 host order');
  t.is(dv.getUint8(off(`${SK}skc_state`)), 1);
  t.is(dv.getUint16(off(`${SK}skc_family`), true), AF_INET6);
  t.is(dv.getUint32(off(`${SK}skc_v6_daddr.in6_u.u6_addr32`), false), 0xfd000000);
  t.is(dv.getUint32(off(`${SK}skc_v6_daddr.in6_u.u6_addr32`) + 12, false), 1);
  t.is(dv.getBigUint64(off(`${SK}skc_cookie.counter`), true), 0x1_2345_6789n, 'atomic64_t read from the plain number');
  t.is(dv.getInt16(off('inet_conn.icsk_inet.uc_ttl'), true), -1, 's16');
  t.is(dv.getUint16(off('inet_conn.icsk_inet.inet_sport'), false), 80);
  t.is(dv.getUint32(off('mss_cache'), true), 1448);
  t.is(dv.getUint32(off('snd_cwnd_clamp'), true), 0xffffffff);
  t.is(dv.getBigUint64(off('bytes_received'), true), 2n ** 40n + 5n);
  // struct tcp_options_received's flag bits: SysV layout, as clang's BPF_CORE_READ_BITFIELD reads them.
  const rx = KB.struct(TCP_SOCK)!.fields.filter((f) => f.path.startsWith('rx_opt.') && f.bits !== undefined);
  const bit = (name: string): number => {
    const f = rx.find((x) => x.name === name)!;
    let v = 0;
    for (let b = 0; b < f.bits!; b++) {
      const pos = f.bitOffset! + b;
      v |= ((dv.getUint8(pos >> 3) >> (pos & 7)) & 1) << b;
    }
    return v;
  };
  t.deepEqual([bit('snd_wscale'), bit('rcv_wscale'), bit('sack_ok'), bit('tstamp_ok'), bit('wscale_ok')], [7, 9, 1, 0, 1]);
  // skc_reuseport is bit 4 of byte 19 (after the 4-bit skc_reuse).
  t.is((dv.getUint8(19) >> 4) & 1, 1);
  t.is(env.socks.views.objectOf(hi), o);
  // inet_sock.pinet6 of an AF_INET6 socket: the socket itself as struct ipv6_pinfo.
  const p6 = dv.getInt32(off('inet_conn.icsk_inet.pinet6') + 4, true);
  t.is(env.socks.views.objectOf(p6), o);
  t.is(bytesOf(env, p6).getUint32(off('saddr.in6_u.u6_addr32', 'ipv6_pinfo') + 12, false), 2);
  o.skc_family = AF_INET;
  const v4 = bytesOf(env, env.socks.views.make(o, TCP_SOCK, -1, 0));
  t.is(v4.getBigUint64(off('inet_conn.icsk_inet.pinet6'), true), 0n, 'NULL for an AF_INET socket');
});

test('pointer members: a view of the pointee (NULL when vxo holds none); a cycle ends on views already made', (t) => {
  const env = viewEnv();
  const req = new FakeTcp(), lst = new FakeTcp();
  req.skc_family = lst.skc_family = AF_INET;
  lst.skc_state = TCP_STATES.TCP_LISTEN;
  req.rsk_listener = lst;
  lst.rsk_listener = req;
  const hi = env.socks.views.make(req, TCP_SOCK, -1, 0);
  const dv = bytesOf(env, hi);
  const at = off(`${SK}skc_listener`);
  const lhi = dv.getInt32(at + 4, true);
  t.is(dv.getInt32(at, true), 0);
  t.is(env.socks.views.objectOf(lhi), lst, 'the pointee view shows the listener');
  const ldv = bytesOf(env, lhi);
  t.is(ldv.getUint8(off('__sk_common.skc_state', 'sock')), TCP_STATES.TCP_LISTEN, 'as struct sock');
  // The listener's own skc_listener points back at a struct sock view of the request: a third view, then it ends.
  const back = ldv.getInt32(off('__sk_common.skc_listener', 'sock') + 4, true);
  t.is(env.socks.views.objectOf(back), req);
  t.is(env.socks.views.inUse, 3);
  lst.rsk_listener = null;
  const hi2 = env.socks.views.make(lst, TCP_SOCK, -1, 0);
  t.is(bytesOf(env, hi2).getBigUint64(at, true), 0n, 'NULL');
});

test('with btfReads only the fields a load may read are filled; reuse and release empty the views', (t) => {
  const env = viewEnv();
  const views = env.socks.views;
  views.setReads([{ structId: TCP_SOCK, off: off('mss_cache'), size: 4 }, { structId: TCP_SOCK, off: off(`${SK}skc_num`), size: 2 }]);
  const o = new FakeTcp();
  const hi = views.make(o, TCP_SOCK, -1, 0);
  const dv = bytesOf(env, hi);
  t.is(dv.getUint32(off('mss_cache'), true), 1448);
  t.is(dv.getUint16(off(`${SK}skc_num`), true), 80);
  t.is(dv.getUint32(off(`${SK}skc_daddr`), false), 0, 'not read by the program: not filled');
  o.mss_cache = 1400;
  t.is(views.make(o, TCP_SOCK, -1, 0), hi, 'the same object and struct: the same view');
  t.is(dv.getUint32(off('mss_cache'), true), 1400, 'filled again when the pointer is made again');
  t.true(views.release(hi));
  t.is(env.regions[hi & 0xffff]!.hi, 0, 'emptied: a load faults');
  t.false(views.release(hi), 'already released');
  views.make(o, TCP_SOCK, -1, 0);
  env.socks.reset(undefined);
  t.is(views.inUse, 0, 'the end of the run empties every view');
});

// ---------------------------------------------------------------------------------------------
// bpf_skc_to_tcp_sock and loads through the view, in a tc program on a real stack.

/** Slots of the `out` map (u64 each) per socket kind: listener at 0, any other socket at 16. */
const O = {
  STATE: 0, NUM: 1, FAMILY: 2, RCV_SADDR: 3, DADDR: 4, DPORT: 5, V6_RCV_SADDR: 6, V6_DADDR: 10, WSCALE_BITS: 14, MSS: 15, SEEN: 16,
} as const;
const AREA = 32;

/** The fields the program reads: [slot, C path, load size]. */
const READS: readonly (readonly [number, string, 1 | 2 | 4 | 8])[] = [
  [O.STATE, `${SK}skc_state`, 1],
  [O.NUM, `${SK}skc_num`, 2],
  [O.FAMILY, `${SK}skc_family`, 2],
  [O.RCV_SADDR, `${SK}skc_rcv_saddr`, 4],
  [O.DADDR, `${SK}skc_daddr`, 4],
  [O.DPORT, `${SK}skc_dport`, 2],
  [O.V6_RCV_SADDR, `${SK}skc_v6_rcv_saddr.in6_u.u6_addr32`, 8],
  [O.V6_RCV_SADDR + 1, `${SK}skc_v6_rcv_saddr.in6_u.u6_addr32`, 8],
  [O.V6_DADDR, `${SK}skc_v6_daddr.in6_u.u6_addr32`, 8],
  [O.V6_DADDR + 1, `${SK}skc_v6_daddr.in6_u.u6_addr32`, 8],
  [O.WSCALE_BITS, 'rx_opt.snd_wscale', 2],
  [O.MSS, 'mss_cache', 4],
];

const LDX = { 1: 'ldxb', 2: 'ldxh', 4: 'ldxw', 8: 'ldxdw' } as const;

/**
 * The program: the segment's 4-tuple -> bpf_skc_lookup_tcp -> bpf_skc_to_tcp_sock -> READS into
 * out[area] (area 0 for a listener, 1 otherwise), then bpf_sk_release. IPv4 or IPv6 frames.
 */
function readerAsm(family: number): string {
  const v4 = family === AF_INET;
  const reads = READS.map(([slot, path, size], i) => {
    // Two 8-byte halves of an address: the second one 8 bytes further.
    const extra = i > 0 && READS[i - 1]![1] === path ? 8 : 0;
    return `${LDX[size]} %r1, [%r8+${off(path) + extra}]\nstxdw [%r9+${8 * slot}], %r1`;
  }).join('\n');
  return `${tcpFrameCheckAsm(family)}
${sockTupleAsm(family)}
${SKC_LOOKUP_ASM}
mov %r1, %r7
call 137
jeq %r0, 0, release
mov %r8, %r0
ldxb %r1, [%r8+${off(`${SK}skc_state`)}]
mov %r2, 0
jne %r1, ${TCP_STATES.TCP_LISTEN}, +1
mov %r2, 1
mov %r1, 1
sub %r1, %r2
stxw [%r10-48], %r1
lddw %r1, map_by_fd(out)
mov %r2, %r10
add %r2, -48
call 1
jeq %r0, 0, release
mov %r9, %r0
${reads}
ldxdw %r1, [%r9+${8 * O.SEEN}]
add %r1, 1
stxdw [%r9+${8 * O.SEEN}], %r1
release:
mov %r1, %r7
call 86
ok:
mov %r0, 0
exit`;
}

function outMap(): BpfMap {
  return createMap({ name: 'out', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8 * AREA, maxEntries: 2, flags: 0 });
}

function tcProgram(src: string, maps: Record<string, BpfMap>): Program {
  return asmTcProgram('btf_view', src, maps);
}

function area(m: BpfMap, i: number): bigint[] {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, i, true);
  const v = m.lookup(k)!;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return Array.from({ length: AREA }, (_, j) => dv.getBigUint64(8 * j, true));
}

/** Every program here is verified first: its btfReads decide what a view holds, its facts make the probe loads. */
const VERIFY = true;

function stacks(): TwoHosts {
  return twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
}

function listen(t: TwoHosts, family: number, port: number): Socket {
  const l = sock(t.b, family, SOCK_STREAM);
  if (l.bind(family === AF_INET ? sa4(0, port) : sa6(ANY6, port)) !== 0 || l.listen(16) !== 0) throw new Error('listen');
  return l;
}

const be16 = (v: number): bigint => BigInt(((v & 0xff) << 8) | ((v >>> 8) & 0xff));
const be32 = (v: number): bigint => BigInt((((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0);
/** Two u32 words of an In6Addr as one little-endian u64 load of their network-order bytes. */
const in6Half = (a: In6Addr, i: 0 | 1): bigint => (i === 0 ? be32(a.w0) | (be32(a.w1) << 32n) : be32(a.w2) | (be32(a.w3) << 32n));

/**
 * vxo's socket fields as the kernel has them. `v6Unset`: an AF_INET socket the kernel never gave
 * v6 addresses (a listener: inet_bind sets the IPv4 ones only; vxo keeps a v4-mapped view).
 */
function expected(sk: TcpSock, v6Unset = false): Record<number, bigint> {
  const z = new In6Addr();
  const v6s = v6Unset ? z : sk.skc_v6_rcv_saddr, v6d = v6Unset ? z : sk.skc_v6_daddr;
  return {
    [O.STATE]: BigInt(sk.skc_state),
    [O.NUM]: BigInt(sk.skc_num),
    [O.FAMILY]: BigInt(sk.skc_family),
    [O.RCV_SADDR]: be32(sk.skc_rcv_saddr),
    [O.DADDR]: be32(sk.skc_daddr),
    [O.DPORT]: be16(sk.skc_dport),
    [O.V6_RCV_SADDR]: in6Half(v6s, 0),
    [O.V6_RCV_SADDR + 1]: in6Half(v6s, 1),
    [O.V6_DADDR]: in6Half(v6d, 0),
    [O.V6_DADDR + 1]: in6Half(v6d, 1),
    [O.MSS]: BigInt(sk.mss_cache),
  };
}

function pick(row: readonly bigint[]): Record<number, bigint> {
  const out: Record<number, bigint> = {};
  for (const slot of [O.STATE, O.NUM, O.FAMILY, O.RCV_SADDR, O.DADDR, O.DPORT, O.V6_RCV_SADDR, O.V6_RCV_SADDR + 1, O.V6_DADDR, O.V6_DADDR + 1, O.MSS]) out[slot] = row[slot]!;
  return out;
}

/** The snd_wscale/rcv_wscale bits as the u16 load at rx_opt.snd_wscale's storage unit reads them. */
function wscaleBits(sk: TcpSock): bigint {
  const f = KB.struct(TCP_SOCK)!.fields;
  const s = f.find((x) => x.path === 'rx_opt.snd_wscale')!, r = f.find((x) => x.path === 'rx_opt.rcv_wscale')!;
  const base = off('rx_opt.snd_wscale') * 8;
  return BigInt(((sk.rx_opt.snd_wscale << (s.bitOffset! - base)) | (sk.rx_opt.rcv_wscale << (r.bitOffset! - base))) & 0xffff);
}

for (const engine of ENGINES) {
  for (const family of [AF_INET, AF_INET6]) {
    const fam = family === AF_INET ? 'IPv4' : 'IPv6';
    test(`${engine}: ${fam}: bpf_skc_to_tcp_sock at tc ingress reads the listener's and the connection's struct tcp_sock as vxo holds them`, (t) => {
      const h = stacks();
      const l = listen(h, family, 80);
      const out = outMap();
      qdisc_create_clsact(h.devb);
      const cp = tc_filter_add(h.devb, 'ingress', tcProgram(readerAsm(family), { out }), { engine, verify: VERIFY });
      if (typeof cp === 'number') { t.fail(`tc_filter_add: ${cp}`); return; }
      const v = cp.runner.verified;
      if (v === undefined) { t.fail('not verified'); return; }
      // Every tcp_sock load is a recorded read, and a probe load for the engines.
      for (const [, path, size] of READS) t.true(v.btfReads.some((r) => r.structId === TCP_SOCK && r.off === off(path) && r.size === size), path);
      t.true(v.facts.some((f) => f?.mem?.kind === 'btf' && f.mem.btfId === TCP_SOCK));
      const cli = sock(h.a, family, SOCK_STREAM);
      cli.connect(family === AF_INET ? sa4(h.b4, 80) : sa6(h.b6, 80));
      h.advance(3);
      const srv = l.accept();
      if (typeof srv === 'number') { t.fail(`accept: ${srv}`); return; }
      // The SYN found the listener; the handshake's ACK finds the request socket, which is no
      // struct tcp_sock (NULL); data finds the connection.
      const lrow = area(out, 0);
      t.is(lrow[O.SEEN], 1n, 'the SYN');
      t.deepEqual(pick(lrow), expected(l.sk as TcpSock, family === AF_INET), 'the listener');
      t.is(lrow[O.WSCALE_BITS], wscaleBits(l.sk as TcpSock));
      cli.send(new Uint8Array([1, 2, 3]), MSG_DONTWAIT);
      h.advance(2);
      const crow = area(out, 1);
      t.true(crow[O.SEEN]! >= 1n);
      const stp = srv.sk as TcpSock;
      t.is(stp.skc_state, TCP_STATES.TCP_ESTABLISHED);
      t.deepEqual(pick(crow), expected(stp), 'the connection: addresses and ports both ways (v4-mapped for IPv4, as tcp_v4_syn_recv_sock sets them)');
      if (family === AF_INET) t.is(crow[O.V6_RCV_SADDR + 1], 0xffffn << 16n | be32(h.b4) << 32n, '::ffff:10.0.0.2');
      t.not(crow[O.DPORT], 0n);
      t.is(crow[O.WSCALE_BITS], wscaleBits(stp), 'the window scales the handshake agreed');
      t.is(cp.runner.env.socks.inUse, 0, 'every slot and view released');
    });
  }
}

// ---------------------------------------------------------------------------------------------
// PROBE_MEM: a BTF load whose base is NULL or gone reads 0 on both engines; without the
// verifier's mark it faults.

function probeProgram(): Program {
  // r1 = NULL + 18 then a u8 load at [r1+0]: the verifier's facts mark pc 1 as a BTF load.
  return tcProgram(`mov %r1, 0
ldxb %r0, [%r1+18]
add %r0, 7
exit`, {});
}

for (const engine of ENGINES) {
  test(`${engine}: a probe load through NULL reads 0; unmarked it faults`, (t) => {
    const prog = probeProgram();
    const prepared = prepareProgram({ type: prog.type, insns: prog.insns, fds: prog.fds });
    const facts: (InsnFacts | undefined)[] = [{}, { mem: { kind: 'btf', btfId: TCP_SOCK } }, {}, {}];
    const run = (f: (InsnFacts | undefined)[] | undefined): number => {
      const env = new ExecEnv(prepared.maps);
      const e = createEngine(engine as EngineName, prepared, env, f === undefined ? {} : { facts: f });
      env.R[2] = 0;
      env.R[3] = regionTag(REGION_ID.CTX);
      e.run();
      return env.R[0]!;
    };
    t.is(run(facts), 7);
    t.throws(() => run(undefined), { message: /invalid memory access: read of 1 bytes/ });
  });
}

// ---------------------------------------------------------------------------------------------
// References: the cast shares the lookup's; releasing either releases the socket and empties both
// (a use after release faults where no verifier stopped it). A UDP socket is no tcp_sock.

const SERVER = 0xc0000201; // 192.0.2.1

/** lookup(dport) -> r7, bpf_skc_to_tcp_sock -> r8 (NULL: return 0xdead), then `tail`. */
function castAsm(dport: number, tail: string, helper = 99): string {
  const be16v = ((dport & 0xff) << 8) | (dport >>> 8);
  return `mov %r6, %r1
mov32 %r1, 0x010200c0
stxw [%r10-12], %r1
mov %r1, 0
stxw [%r10-16], %r1
stxw [%r10-4], %r1
stxh [%r10-8], %r1
mov %r1, ${be16v}
stxh [%r10-6], %r1
mov %r1, %r6
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call ${helper}
jeq %r0, 0, none
mov %r7, %r0
mov %r1, %r0
call 137
jne %r0, 0, +4
mov %r1, %r7
call 86
mov %r0, 0xdead
exit
mov %r8, %r0
${tail}
none:
mov %r0, 0xbad
exit`;
}

function fakeWorld(): { host: FakeHost; est: FakeSock; udp: FakeSock } {
  const est = fakeSock({ protocol: IPPROTO_TCP, state: TCP_ESTABLISHED, srcIp4: SERVER, srcPort: 22, cookie: 11n });
  const udp = fakeSock({ protocol: IPPROTO_UDP, state: TCP_CLOSE, srcIp4: SERVER, srcPort: 53, cookie: 9n });
  return { host: new FakeHost([est, udp]), est, udp };
}

function runFake(engine: EngineName, src: string, host: FakeHost, verify = false): { r0: number; runner: SkbProgramRunner } {
  const runner = new SkbProgramRunner(tcProgram(src, {}), { engine, verify, netHost: host });
  const r0 = runner.run(fakeSkb(3), true);
  return { r0, runner };
}

for (const engine of ENGINES) {
  test(`${engine}: releasing the tcp_sock releases the lookup's reference; the socket pointer is gone with it`, (t) => {
    const { host, est } = fakeWorld();
    const released = castAsm(22, `mov %r1, %r8
call 86
mov %r0, 0
exit`);
    t.is(runFake(engine, released, host, true).r0, 0, 'verified: bpf_sk_release takes the cast');
    t.deepEqual([est.refcnt, host.releases], [0, 1], 'the one reference, given back once');
    const after = castAsm(22, `mov %r1, %r8
call 86
ldxw %r0, [%r7+4]
exit`);
    t.throws(() => runFake(engine, after, host), { message: /invalid memory access: read of 4 bytes at r7\+4/ }, 'the lookup\'s pointer went with it');
    t.is(est.refcnt, 0);
  });

  test(`${engine}: releasing the lookup empties the tcp_sock view; a load through it faults unverified`, (t) => {
    const { host, est } = fakeWorld();
    const src = castAsm(22, `mov %r1, %r7
call 86
ldxw %r0, [%r8+${off('mss_cache')}]
exit`);
    t.throws(() => runFake(engine, src, host), { message: /invalid memory access: read of 4 bytes at r8\+/ });
    t.deepEqual([est.refcnt, host.releases], [0, 1]);
  });

  test(`${engine}: a UDP socket is no struct tcp_sock: NULL`, (t) => {
    const { host, udp } = fakeWorld();
    const src = castAsm(53, `mov %r1, %r7
call 86
mov %r0, 1
exit`, 85);
    const { r0, runner } = runFake(engine, src, host, true);
    t.is(r0, 0xdead);
    t.is(udp.refcnt, 0);
    t.is(runner.env.socks.inUse, 0);
  });
}

// ---------------------------------------------------------------------------------------------
// A C program built against vxo's vmlinux.h (test/fixtures/btf/core_sk.c): CO-RE field reads
// through the tcp_sock, BPF_CORE_READ (bpf_probe_read_kernel of bytes no load of the program names,
// which the view fills on demand), the kfunc extern.

for (const engine of ENGINES) {
  test(`${engine}: core_sk.o: verified; BPF_CORE_READ of the listener's skc_cookie through bpf_probe_read_kernel`, (t) => {
    const h = stacks();
    const l = listen(h, AF_INET, 80);
    const host = net_bpf_host(h.b);
    const cookie = host.sk_cookie(l.sk as object);
    const coll = loadObjectFile(fileURLToPath(new URL('../fixtures/btf/core_sk.o', import.meta.url)));
    const prog = coll.programs.get('core_sk')!;
    const frame = P.tcp4Frame({ eth: {}, ip: { src: '10.0.0.1', dst: '10.0.0.2' }, tcp: { srcPort: 1234, dstPort: 80, flags: 0x10 } });
    const r = bpfProgTestRunSkb(prog, { dataIn: frame, netHost: host, engine });
    // A listener's rcv_nxt is 0: the program releases before the kfunc, TC_ACT_OK.
    t.is(r.retval, 0);
    const bss = coll.maps.get('.bss')!.lookup(new Uint8Array(4))!;
    t.is(new DataView(bss.buffer, bss.byteOffset).getBigUint64(0, true), cookie, 'last_cookie');
    t.is(bpf_sock_refs_held(h.b), 0);
  });
}

// ---------------------------------------------------------------------------------------------
// A request socket (a plain handshake, no cookie): bpf_skc_to_tcp_request_sock on the final ACK's
// lookup, its fields; unverified, its pointer member __req_common.skc_listener (the verifier reads
// those 8 bytes as the union's first member, the scalar skc_flags): a view of the listener as
// struct sock.

const TRS = (path: string): number => off(path, 'tcp_request_sock');

function requestAsm(listener: boolean): string {
  return `${tcpFrameCheckAsm(AF_INET)}
${sockTupleAsm(AF_INET)}
${SKC_LOOKUP_ASM}
ldxw %r1, [%r7+72]
jne %r1, ${TCP_STATES.TCP_NEW_SYN_RECV}, release
mov %r1, %r7
call 139
jeq %r0, 0, release
mov %r8, %r0
${mapSlot0Asm('out', '%r9', 'release')}
ldxw %r1, [%r8+${TRS('snt_isn')}]
stxdw [%r9+0], %r1
ldxh %r1, [%r8+${TRS('req.req.mss')}]
stxdw [%r9+8], %r1
ldxb %r1, [%r8+${TRS('req.req.__req_common.skc_state')}]
stxdw [%r9+16], %r1
${listener ? `ldxdw %r1, [%r8+${TRS('req.req.__req_common.skc_listener')}]
jeq %r1, 0, release
ldxh %r2, [%r1+${off('__sk_common.skc_num', 'sock')}]
stxdw [%r9+24], %r2
ldxb %r2, [%r1+${off('__sk_common.skc_state', 'sock')}]
stxdw [%r9+32], %r2` : ''}
release:
mov %r1, %r7
call 86
ok:
mov %r0, 0
exit`;
}

for (const engine of ENGINES) {
  for (const listener of [false, true]) test(`${engine}: bpf_skc_to_tcp_request_sock: the request's fields${listener ? ', and its listener through the skc_listener pointer member (unverified)' : ''}`, (t) => {
    const h = stacks();
    const l = listen(h, AF_INET, 80);
    const out = outMap();
    qdisc_create_clsact(h.devb);
    const cp = tc_filter_add(h.devb, 'ingress', tcProgram(requestAsm(listener), { out }), { engine, verify: !listener });
    if (typeof cp === 'number') { t.fail(`tc_filter_add: ${cp}`); return; }
    const cli = sock(h.a, AF_INET, SOCK_STREAM);
    cli.connect(sa4(h.b4, 80));
    h.advance(3);
    const srv = l.accept();
    if (typeof srv === 'number') { t.fail(`accept: ${srv}`); return; }
    const [isn, mss, state, lport, lstate] = area(out, 0);
    t.is(state, BigInt(TCP_STATES.TCP_NEW_SYN_RECV));
    t.is(isn, BigInt(((cli.sk as TcpSock).rcv_nxt - 1) >>> 0), 'the server ISN the client received (no data yet: rcv_nxt - 1)');
    t.is(mss, BigInt((srv.sk as TcpSock).rx_opt.mss_clamp), 'the request\'s MSS, the child\'s clamp');
    if (listener) t.deepEqual([lport, lstate], [80n, BigInt(TCP_STATES.TCP_LISTEN)], 'the listener, through the pointer member');
    t.is(cp.runner.env.socks.inUse, 0);
  });
}

for (const engine of ENGINES) {
  test(`${engine}: the socket helpers take the tcp_sock as ARG_PTR_TO_BTF_ID_SOCK_COMMON: bpf_sk_assign(skb, tp)`, (t) => {
    const { host, est } = fakeWorld();
    const src = castAsm(22, `mov %r1, %r6
mov %r2, %r8
mov %r3, 0
call 124
mov %r9, %r0
mov %r1, %r7
call 86
mov %r0, %r9
exit`);
    t.is(runFake(engine, src, host, true).r0, 0);
    t.is(host.assigned.length, 1);
    t.is(host.assigned[0]!.sk, est, 'the socket behind the view');
  });
}

for (const engine of ENGINES) {
  test(`${engine}: bpf_probe_read_kernel from NULL: -EFAULT and the destination zeroed, as copy_from_kernel_nofault's failure`, (t) => {
    const { host } = fakeWorld();
    const src = `mov %r1, -1
stxdw [%r10-8], %r1
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
call 113
ldxdw %r1, [%r10-8]
add %r0, %r1
exit`;
    t.is(runFake(engine, src, host, true).r0 | 0, -14);
  });
}

// ---------------------------------------------------------------------------------------------
// The other casts: each takes exactly its kind of socket (the kernel's conditions), NULL otherwise.

/** A v4 (12-byte) or v6 (36-byte) tuple naming dport, bpf_skc_lookup_tcp or bpf_sk_lookup_udp, then cast `helper`: 1 or 0. */
function kindAsm(v6: boolean, dport: number, lookup: number, helper: number): string {
  const be16v = ((dport & 0xff) << 8) | (dport >>> 8);
  const size = v6 ? 36 : 12, base = v6 ? -40 : -16;
  const zero = Array.from({ length: (v6 ? 40 : 16) / 8 }, (_, i) => `stxdw [%r10${base + 8 * i}], %r1`).join('\n');
  const portAt = base + (v6 ? 34 : 10);
  return `mov %r6, %r1
mov %r1, 0
${zero}
${v6 ? '' : 'mov32 %r1, 0x010200c0\nstxw [%r10-12], %r1\n'}mov %r1, ${be16v}
stxh [%r10${portAt}], %r1
mov %r1, %r6
mov %r2, %r10
add %r2, ${base}
mov %r3, ${size}
mov %r4, -1
mov %r5, 0
call ${lookup}
jeq %r0, 0, none
mov %r7, %r0
mov %r1, %r0
call ${helper}
mov %r8, 1
jne %r0, 0, +1
mov %r8, 0
mov %r1, %r7
call 86
mov %r0, %r8
exit
none:
mov %r0, 0xbad
exit`;
}

test('the bpf_skc_to_* casts: tcp6 (full TCP, AF_INET6), tcp (any full TCP), timewait, request, udp6 (full UDP, AF_INET6)', (t) => {
  const est4 = fakeSock({ protocol: IPPROTO_TCP, state: TCP_ESTABLISHED, srcIp4: SERVER, srcPort: 22 });
  const est6 = fakeSock({ family: AF_INET6, protocol: IPPROTO_TCP, state: TCP_ESTABLISHED, srcPort: 23 });
  const lst = fakeSock({ protocol: IPPROTO_TCP, state: TCP_STATES.TCP_LISTEN, srcIp4: SERVER, srcPort: 80 });
  const req = fakeSock({ protocol: IPPROTO_TCP, state: TCP_STATES.TCP_NEW_SYN_RECV, srcIp4: SERVER, srcPort: 443, listener: lst });
  const tw = fakeSock({ protocol: IPPROTO_TCP, state: TCP_STATES.TCP_TIME_WAIT, srcIp4: SERVER, srcPort: 25, timeWait: true });
  const udp6 = fakeSock({ family: AF_INET6, protocol: IPPROTO_UDP, state: TCP_CLOSE, srcPort: 53 });
  const udp4 = fakeSock({ protocol: IPPROTO_UDP, state: TCP_CLOSE, srcIp4: SERVER, srcPort: 54 });
  const host = new FakeHost([est4, est6, lst, req, tw, udp6, udp4]);
  const socks: readonly [string, boolean, number, number][] = [
    ['est4', false, 22, 99], ['est6', true, 23, 99], ['req', false, 443, 99], ['tw', false, 25, 99], ['udp6', true, 53, 85], ['udp4', false, 54, 85],
  ];
  const casts: readonly [string, number, readonly string[]][] = [
    ['tcp6_sock', 136, ['est6']],
    ['tcp_sock', 137, ['est4', 'est6']],
    ['tcp_timewait_sock', 138, ['tw']],
    ['tcp_request_sock', 139, ['req']],
    ['udp6_sock', 140, ['udp6']],
  ];
  for (const engine of ENGINES) {
    for (const [cast, id, yes] of casts) {
      const got = socks.filter(([, v6, port, lookup]) => runFake(engine, kindAsm(v6, port, lookup, id), host, true).r0 === 1).map(([n]) => n);
      t.deepEqual(got, yes, `${engine}: bpf_skc_to_${cast}`);
    }
  }
  t.true([est4, est6, req, tw, udp6, udp4].every((s) => s.refcnt === 0), 'every lookup released');
});

test('the casts are bpf_base_func_proto\'s: an XDP program casts a socket it looked up too', (t) => {
  const est4 = fakeSock({ protocol: IPPROTO_TCP, state: TCP_ESTABLISHED, srcIp4: SERVER, srcPort: 22 });
  const host = new FakeHost([est4]);
  for (const engine of ENGINES) {
    const prog: Program = { ...tcProgram(kindAsm(false, 22, 99, 137), {}), type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP as ProgType, section: 'xdp' };
    const runner = new XdpProgramRunner(prog, { engine, netHost: host });
    t.is(runner.run(), 1, engine);
    t.is(est4.refcnt, 0);
  }
});
