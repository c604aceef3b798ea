// The kfunc bpf_sk_assign_tcp_reqsk called from a tc program (BPF_PSEUDO_KFUNC_CALL, imm = its
// FUNC id in vxo's kernel BTF) on both engines, against two net/ stacks: the server's clsact
// ingress runs the program on the handshake's ACK; it looks the listener up
// (bpf_skc_lookup_tcp), casts it (bpf_skc_to_tcp_sock), reads its state through struct tcp_sock
// and hands the kfunc the attributes from a map. The SYN is answered by the TypeScript cookie hook
// of test/net (tcp-reqsk-hook.ts), whose SYN-ACK carries the MSS alone (the client runs without
// timestamps, SACK and window scaling), so the attributes are known in advance. Good attributes:
// the connection completes without the listener seeing a SYN; bad ones (reserved byte, MSS below
// the minimum, attrs__sz) come back -EINVAL and the ACK is dropped. Also: -EOPNOTSUPP from a host
// without the kfunc, bpf_rcu_read_lock/unlock, bpf_cast_to_kern_ctx (struct sk_buff and its `sk`
// member at egress), bpf_rdonly_cast, and prepare's refusal of a BTF id that is no kfunc.
import test, { type ExecutionContext } from 'ava';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import { KERNEL_KFUNCS } from '../../bpf-vm/btf/kernel-types.ts';
import { IMPLEMENTED_KFUNCS, kfuncProto } from '../../bpf-vm/helpers/kfuncs.ts';
import { ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { createMap } from '../../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../../bpf-vm/maps/map.ts';
import { prepareProgram } from '../../bpf-vm/prog/prepare.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { SkbProgramRunner } from '../../bpf-vm/prog/skb-runner.ts';
import { BPF_PROG_TYPE, type ProgType } from '../../bpf-vm/prog/types.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { BPF_TCP_REQ_ATTRS, bpf_tcp_req_attrs_write, type BpfTcpReqAttrs } from '../../net/core/bpf-tcp-reqsk.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { reqsk_bpf_live } from '../../net/core/request-sock.ts';
import type { SkBuff } from '../../net/core/skbuff.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../../net/core/socket-constants.ts';
import { bpf_sock_refs_held } from '../../net/core/sock-refcnt.ts';
import { TCP_STATES } from '../../net/core/tcp-states.ts';
import { tcp_init } from '../../net/ipv4/tcp.ts';
import type { TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { udp_init } from '../../net/ipv4/udp.ts';
import { qdisc_create_clsact, tc_filter_add } from '../../net/sched/cls-bpf.ts';
import { TC_ACT_OK } from '../../net/sched/pkt-cls.ts';
import type { Socket } from '../../net/socket.ts';
import { CookieHook, MSSTAB4, MSSTAB6 } from '../net/tcp-reqsk-hook.ts';
import { asmTcProgram, btfFieldOffset, mapSlot0Asm, SKC_LOOKUP_ASM, sockTupleAsm, tcpFrameCheckAsm } from '../support/tc-asm.ts';
import { ANY6, MSG_DONTWAIT, sa4, sa6, sock } from '../net/support/frames.ts';
import { twoHosts, type TwoHosts } from '../net/support/topology.ts';
import { FakeHost, fakeSkb, fakeSock, IPPROTO_TCP, TCP_LISTEN } from './sk-fake-host.ts';

const KB = kernelBtf();
const KFUNC = KB.kfunc('bpf_sk_assign_tcp_reqsk')!.funcId;
const SK_STATE = btfFieldOffset('tcp_sock', 'inet_conn.icsk_inet.sk.__sk_common.skc_state');

/** out map slots (u64): the listener's state read through the tcp_sock, the kfunc's return, calls. */
const OUT = { STATE: 0, RET: 1, CALLS: 2 } as const;

/**
 * The ACK half of a custom SYN cookie program, without the cookie: for a segment to a listener,
 * bpf_skc_to_tcp_sock, the state through it, then bpf_sk_assign_tcp_reqsk(skb, tp, attrs, sz);
 * release on every path; TC_ACT_SHOT when the kfunc fails.
 */
function ackAsm(family: number, sz: number): string {
  return `${tcpFrameCheckAsm(family)}
${sockTupleAsm(family)}
${SKC_LOOKUP_ASM}
ldxw %r1, [%r7+72]
jne %r1, ${TCP_STATES.TCP_LISTEN}, release_ok
mov %r1, %r7
call 137
jeq %r0, 0, release_shot
mov %r8, %r0
${mapSlot0Asm('out', '%r9', 'release_shot')}
ldxb %r1, [%r8+${SK_STATE}]
stxdw [%r9+${8 * OUT.STATE}], %r1
ldxdw %r1, [%r9+${8 * OUT.CALLS}]
add %r1, 1
stxdw [%r9+${8 * OUT.CALLS}], %r1
lddw %r1, map_by_fd(attrs)
mov %r2, %r10
add %r2, -48
call 1
jeq %r0, 0, release_shot
mov %r3, %r0
mov %r1, %r6
mov %r2, %r8
mov %r4, ${sz}
call runtime ${KFUNC}
stxdw [%r9+${8 * OUT.RET}], %r0
mov %r6, %r0
mov %r1, %r7
call 86
jne %r6, 0, shot
ok:
mov %r0, 0
exit
release_ok:
mov %r1, %r7
call 86
mov %r0, 0
exit
release_shot:
mov %r1, %r7
call 86
shot:
mov %r0, 2
exit`;
}

function program(src: string, maps: Record<string, BpfMap>): Program {
  return asmTcProgram('ack', src, maps);
}

const key0 = new Uint8Array(4);

function maps(a: BpfTcpReqAttrs, tweak?: (b: Uint8Array) => void): { out: BpfMap; attrs: BpfMap } {
  const out = createMap({ name: 'out', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 24, maxEntries: 1, flags: 0 });
  const attrs = createMap({ name: 'attrs', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 24, maxEntries: 1, flags: 0 });
  const v = new Uint8Array(24);
  bpf_tcp_req_attrs_write(a, v);
  tweak?.(v);
  attrs.update(key0, v, 0);
  return { out, attrs };
}

function outRow(m: BpfMap): [state: bigint, ret: bigint, calls: bigint] {
  const v = m.lookup(key0)!;
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return [dv.getBigInt64(8 * OUT.STATE, true), dv.getBigInt64(8 * OUT.RET, true), dv.getBigInt64(8 * OUT.CALLS, true)];
}

/** SYNs to the TypeScript cookie hook (which answers them); everything else on to cls_bpf. */
class SynHook {
  constructor(readonly hook: CookieHook) {}
  run(skb: SkBuff): number {
    const nh = skb.network_header;
    const th = skb.protocol === 0x0800 ? nh + (skb.head[nh]! & 0x0f) * 4 : nh + 40;
    const flags = skb.head[th + 13]!;
    return (flags & 0x12) === 0x02 ? this.hook.run(skb) : TC_ACT_OK;
  }
}

interface World {
  h: TwoHosts;
  l: Socket;
  cli: Socket;
  hook: CookieHook;
  out: BpfMap;
}

function attrsFor(family: number): BpfTcpReqAttrs {
  // The client's MSS (1460 / 1440 on the veth) rounded down in the hook's table.
  return {
    rcv_tsval: 0, rcv_tsecr: 0, mss: family === AF_INET ? MSSTAB4[2] : MSSTAB6[1], rcv_wscale: 0, snd_wscale: 0,
    ecn_ok: false, wscale_ok: false, sack_ok: false, tstamp_ok: false, usec_ts_ok: false,
  };
}

function connect(tc: ExecutionContext, engine: EngineName, family: number, a: BpfTcpReqAttrs, sz: number = BPF_TCP_REQ_ATTRS.SIZE, tweak?: (b: Uint8Array) => void): World | undefined {
  const h = twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
  h.a.ipv4.sysctl_tcp_timestamps = 0;
  h.a.ipv4.sysctl_tcp_sack = 0;
  h.a.ipv4.sysctl_tcp_window_scaling = 0;
  const hook = new CookieHook(h.devb);
  h.devb.tc_ingress.push(new SynHook(hook));
  const { out, attrs } = maps(a, tweak);
  qdisc_create_clsact(h.devb);
  const cp = tc_filter_add(h.devb, 'ingress', program(ackAsm(family, sz), { out, attrs }), { engine, verify: VERIFY });
  if (typeof cp === 'number') { tc.fail(`tc_filter_add: ${cp}`); return undefined; }
  tc.truthy(cp.runner.verified, 'verified');
  const l = sock(h.b, family, SOCK_STREAM);
  if (l.bind(family === AF_INET ? sa4(0, 80) : sa6(ANY6, 80)) !== 0 || l.listen(16) !== 0) throw new Error('listen');
  const cli = sock(h.a, family, SOCK_STREAM);
  cli.connect(family === AF_INET ? sa4(h.b4, 80) : sa6(h.b6, 80));
  h.advance(3);
  return { h, l, cli, hook, out };
}

/** Every program here is verified first (the verifier's kfunc checks, and its facts for the JIT). */
const VERIFY = true;

for (const engine of ENGINES) {
  for (const family of [AF_INET, AF_INET6]) {
    const fam = family === AF_INET ? 'IPv4' : 'IPv6';
    test(`${engine}: ${fam}: good attributes: the kfunc gives the ACK a request; the connection completes, data both ways`, (tc) => {
      const w = connect(tc, engine, family, attrsFor(family));
      if (w === undefined) return;
      const [state, ret, calls] = outRow(w.out);
      tc.is(calls, 1n, 'one ACK reached the listener');
      tc.is(state, BigInt(TCP_STATES.TCP_LISTEN), 'the listener state through struct tcp_sock');
      tc.is(ret, 0n);
      tc.is(w.hook.syns, 1);
      const srv = w.l.accept();
      if (typeof srv === 'number') { tc.fail(`accept: ${srv}`); return; }
      const stp = srv.sk as TcpSock;
      tc.is(stp.skc_state, TCP_STATES.TCP_ESTABLISHED);
      tc.true(stp.syncookie, 'made from the kfunc\'s request');
      tc.is(stp.rx_opt.mss_clamp, attrsFor(family).mss);
      tc.is((w.l.sk as TcpSock).syn_queue_len, 0);
      tc.is(w.h.b.mib.net.SyncookiesRecv, 0);
      const buf = new Uint8Array(16);
      tc.is(w.cli.send(new Uint8Array([1, 2, 3]), MSG_DONTWAIT), 3);
      w.h.advance(2);
      tc.is(srv.recv(buf, MSG_DONTWAIT), 3);
      tc.is(srv.send(new Uint8Array([4, 5]), MSG_DONTWAIT), 2);
      w.h.advance(2);
      tc.is(w.cli.recv(buf, MSG_DONTWAIT), 2);
      tc.deepEqual(Array.from(buf.subarray(0, 2)), [4, 5]);
      tc.is(reqsk_bpf_live(w.h.b), 0);
      tc.is(bpf_sock_refs_held(w.h.b), 0, 'every lookup released');
    });
  }

  const bad: readonly [string, number, (b: Uint8Array) => void, number][] = [
    ['a reserved byte set', BPF_TCP_REQ_ATTRS.SIZE, (b) => { b[BPF_TCP_REQ_ATTRS.reserved + 1] = 1; }, -ERRNO.EINVAL],
    ['an MSS below 536', BPF_TCP_REQ_ATTRS.SIZE, (b) => { b[BPF_TCP_REQ_ATTRS.mss] = 100; b[BPF_TCP_REQ_ATTRS.mss + 1] = 0; }, -ERRNO.EINVAL],
    ['attrs__sz 16', 16, () => {}, -ERRNO.EINVAL],
    ['attrs__sz 24', 24, () => {}, -ERRNO.EINVAL],
  ];
  for (const [what, sz, tweak, errno] of bad) {
    test(`${engine}: bad attributes (${what}): the kfunc says ${errno}, the ACK is dropped, no connection`, (tc) => {
      const w = connect(tc, engine, AF_INET, attrsFor(AF_INET), sz, tweak);
      if (w === undefined) return;
      const [, ret, calls] = outRow(w.out);
      tc.true(calls >= 1n);
      tc.is(ret, BigInt(errno));
      tc.is(typeof w.l.accept(), 'number', 'nothing to accept');
      tc.is(reqsk_bpf_live(w.h.b), 0);
      tc.is(bpf_sock_refs_held(w.h.b), 0);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Without a stack's kfunc, and the small kfuncs.

function runOn(engine: EngineName, src: string, host: FakeHost, ms: Record<string, BpfMap> = {}): number {
  const runner = new SkbProgramRunner(program(src, ms), { engine, verify: VERIFY, netHost: host });
  return runner.run(fakeSkb(3) as SkBuff, true);
}

const RCU = KB.kfunc('bpf_rcu_read_lock')!.funcId;
const RCU_UNLOCK = KB.kfunc('bpf_rcu_read_unlock')!.funcId;
const CAST = KB.kfunc('bpf_cast_to_kern_ctx')!.funcId;
const SKB_LEN = btfFieldOffset('sk_buff', 'len');

for (const engine of ENGINES) {
  test(`${engine}: a host without the kfunc: -EOPNOTSUPP`, (tc) => {
    const listener = fakeSock({ protocol: IPPROTO_TCP, state: TCP_LISTEN, srcIp4: 0xc0000201, srcPort: 80, cookie: 7n });
    const host = new FakeHost([listener]);
    tc.is((host as { sk_assign_tcp_reqsk?: unknown }).sk_assign_tcp_reqsk, undefined, 'the fake host has none');
    const { out, attrs } = maps(attrsFor(AF_INET));
    const src = `mov %r6, %r1
mov32 %r1, 0x010200c0
stxw [%r10-12], %r1
mov %r1, 0
stxw [%r10-16], %r1
stxw [%r10-4], %r1
mov %r1, 0x5000
stxh [%r10-6], %r1
mov %r1, 0
stxh [%r10-8], %r1
mov %r1, %r6
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 99
jeq %r0, 0, none
mov %r7, %r0
mov %r1, %r0
call 137
jeq %r0, 0, rel
mov %r8, %r0
mov %r1, 0
stxw [%r10-24], %r1
lddw %r1, map_by_fd(attrs)
mov %r2, %r10
add %r2, -24
call 1
jeq %r0, 0, rel
mov %r3, %r0
mov %r1, %r6
mov %r2, %r8
mov %r4, 20
call runtime ${KFUNC}
mov %r6, %r0
mov %r1, %r7
call 86
mov %r0, %r6
exit
rel:
mov %r1, %r7
call 86
none:
mov %r0, 1
exit`;
    tc.is(runOn(engine, src, host, { out, attrs }) | 0, -ERRNO.EOPNOTSUPP);
  });

  test(`${engine}: bpf_rcu_read_lock/unlock do nothing; bpf_cast_to_kern_ctx gives struct sk_buff`, (tc) => {
    const host = new FakeHost([]);
    const src = `mov %r6, %r1
call runtime ${RCU}
call runtime ${RCU_UNLOCK}
mov %r1, %r6
call runtime ${CAST}
ldxw %r0, [%r0+${SKB_LEN}]
exit`;
    tc.is(runOn(engine, src, host), fakeSkb(3).len);
  });
}

test('prepare: a kfunc call names a FUNC of vxo\'s kernel BTF; anything else is refused as the kernel does', (tc) => {
  const insns = assemble(`call runtime 1
exit`);
  const e = tc.throws(() => prepareProgram({ type: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS as ProgType, insns }));
  tc.regex(e?.message ?? '', /kernel btf_id 1 is not a function|kfunc calls are not supported/);
});

// ---------------------------------------------------------------------------------------------
// bpf_cast_to_kern_ctx at the client's tc egress: struct sk_buff's `sk` member is a view of the
// sending socket (a pointer member), which bpf_skc_to_tcp_sock takes as a BTF pointer. The
// verifier refuses the pair as the kernel does (the member is an RCU pointer, which
// ARG_PTR_TO_BTF_ID_SOCK_COMMON does not take: `R1 type=rcu_ptr_ expected=...`), so this runs
// unverified: what is checked is the run time's view chain.

const SKB_SK = btfFieldOffset('sk_buff', 'sk');
const TP = (path: string): number => btfFieldOffset('tcp_sock', path);

const SOCK_F = (path: string): number => btfFieldOffset('sock', path);

/**
 * cast(ctx)->sk, then the fields: through bpf_skc_to_tcp_sock (`cast`, unverified), or straight
 * through the struct sock pointer member (verified: probe loads), its snd_nxt slot left 0.
 */
function egressAsm(cast: boolean): string {
  const reads = cast
    ? `ldxh %r1, [%r8+${TP('inet_conn.icsk_inet.sk.__sk_common.skc_dport')}]
stxdw [%r0+0], %r1
ldxw %r1, [%r8+${TP('snd_nxt')}]
stxdw [%r0+8], %r1`
    : `ldxh %r1, [%r7+${SOCK_F('__sk_common.skc_dport')}]
stxdw [%r0+0], %r1`;
  return `mov %r6, %r1
call runtime ${CAST}
ldxdw %r7, [%r0+${SKB_SK}]
jeq %r7, 0, out
${cast ? `mov %r1, %r7
call 137
jeq %r0, 0, out
mov %r8, %r0` : ''}
mov %r1, 0
stxw [%r10-4], %r1
lddw %r1, map_by_fd(out)
mov %r2, %r10
add %r2, -4
call 1
jeq %r0, 0, out
${reads}
ldxdw %r1, [%r0+16]
add %r1, 1
stxdw [%r0+16], %r1
out:
mov %r0, 0
exit`;
}

for (const engine of ENGINES) for (const cast of [false, true]) {
  const what = cast ? 'bpf_skc_to_tcp_sock takes the BTF pointer (unverified)' : 'loads through the pointer member (verified)';
  test(`${engine}: at egress, bpf_cast_to_kern_ctx(skb)->sk is the sending socket; ${what}`, (tc) => {
    const h = twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
    const out = createMap({ name: 'out', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 24, maxEntries: 1, flags: 0 });
    qdisc_create_clsact(h.deva);
    const prog = program(egressAsm(cast), { out });
    if (cast) tc.throws(() => verifyProgram(prog), { message: /R1 type=\w*ptr_ expected=/ });
    const cp = tc_filter_add(h.deva, 'egress', prog, { engine, verify: !cast });
    if (typeof cp === 'number') { tc.fail(`tc_filter_add: ${cp}`); return; }
    const l = sock(h.b, AF_INET, SOCK_STREAM);
    if (l.bind(sa4(0, 80)) !== 0 || l.listen(16) !== 0) throw new Error('listen');
    const cli = sock(h.a, AF_INET, SOCK_STREAM);
    cli.connect(sa4(h.b4, 80));
    h.advance(3);
    tc.is(cli.send(new Uint8Array(100), MSG_DONTWAIT), 100);
    h.advance(1);
    const [dport, sndNxt, calls] = outRow(out);
    const tp = cli.sk as TcpSock;
    tc.true(calls >= 3n, 'SYN, ACK, data');
    tc.is(dport, BigInt(((80 & 0xff) << 8) | (80 >> 8)), 'skc_dport, network order');
    // Read before the segment left: snd_nxt then was the data's first byte or past it.
    if (cast) tc.true(sndNxt === BigInt(tp.snd_nxt) || sndNxt === BigInt((tp.snd_nxt - 100) >>> 0));
    else tc.true(cp.runner.verified!.facts.some((f) => f?.mem?.kind === 'btf' && f.mem.btfId === KB.typeId('sock', 'struct')), 'a probe load through struct sock');
    tc.is(cp.runner.env.socks.inUse, 0);
  });
}

// bpf_rdonly_cast(obj, btf_id): any socket pointer as any struct of vxo's kernel BTF, read-only.
const RDONLY = KB.kfunc('bpf_rdonly_cast')!.funcId;

for (const engine of ENGINES) {
  test(`${engine}: bpf_rdonly_cast gives a read-only view of the socket as the struct asked`, (tc) => {
    const h = twoHosts({ staticNeigh: true, init: (n) => { udp_init(n); tcp_init(n); } });
    const l = sock(h.b, AF_INET, SOCK_STREAM);
    if (l.bind(sa4(0, 8080)) !== 0 || l.listen(16) !== 0) throw new Error('listen');
    const src = `mov %r6, %r1
mov %r1, 0
stxdw [%r10-16], %r1
stxdw [%r10-8], %r1
mov %r1, ${((8080 & 0xff) << 8) | (8080 >> 8)}
stxh [%r10-6], %r1
mov %r1, %r6
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 99
jeq %r0, 0, none
mov %r7, %r0
mov %r1, %r0
mov %r2, ${KB.typeId('tcp_sock', 'struct')}
call runtime ${RDONLY}
ldxw %r8, [%r0+${TP('mss_cache')}]
mov %r1, %r7
call 86
mov %r0, %r8
exit
none:
mov %r0, 1
exit`;
    const runner = new SkbProgramRunner(program(src, {}), { engine, verify: true, netHost: net_bpf_host(h.b) });
    tc.is(runner.run(fakeSkb(3) as SkBuff, true), (l.sk as TcpSock).mss_cache);
  });
}

test('every kfunc of vxo\'s kernel BTF has an implementation both engines call', (tc) => {
  for (const k of KERNEL_KFUNCS) {
    const id = KB.kfunc(k.name)!.funcId;
    tc.true(IMPLEMENTED_KFUNCS.includes(k.name), k.name);
    tc.is(kfuncProto(id)?.args.length, k.params.length, `${k.name}: the prototype's arguments are spilled`);
  }
  tc.is(kfuncProto(1), undefined, 'a BTF id that is no kfunc');
});
