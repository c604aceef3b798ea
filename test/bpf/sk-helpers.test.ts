// The socket helpers at run time, on both engines, against a fake BpfNetHost (sk-fake-host.ts):
// lookups with the kernel's argument rules (tuple size, flags, netns), the caller's device,
// references taken and given back (by bpf_sk_release, or at the end of the run), loads through
// struct bpf_sock and bpf_tcp_sock, the casts, bpf_get_socket_cookie, bpf_sk_assign at tc and the
// SYN cookie helpers' own checks.
import test from 'ava';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { createEngine, ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { ExecEnv } from '../../bpf-vm/interp/env.ts';
import { REGION_ID, regionTag } from '../../bpf-vm/interp/regions.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import { prepareProgram } from '../../bpf-vm/prog/prepare.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import type { BpfSkb } from '../../bpf-vm/prog/sock-host.ts';
import { BPF_PROG_TYPE, type ProgType } from '../../bpf-vm/prog/types.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import {
  AF_INET, AF_INET6, FakeHost, fakeSkb, fakeSock, IPPROTO_TCP, IPPROTO_UDP, TCP_CLOSE, TCP_ESTABLISHED, TCP_LISTEN,
  TCP_NEW_SYN_RECV, type FakeSock,
} from './sk-fake-host.ts';

const SERVER = 0xc0000201; // 192.0.2.1
const CLIENT = 0xc6336401; // 198.51.100.1

function program(src: string, type: number): Program {
  return { name: 'sk', section: 'sec', type: type as ProgType, insns: assemble(src), funcs: [], license: 'GPL', fds: new FdTable() };
}

/** Stores an ipv4 tuple (saddr, daddr, sport, dport; network order) at fp-16 and points r2 at it. */
function tuple4(daddr: number, dport: number, saddr = CLIENT, sport = 40000): string {
  const be32 = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) | 0;
  const be16 = (v: number): number => ((v & 0xff) << 8) | (v >>> 8);
  return `mov %r6, %r1
mov32 %r1, ${be32(saddr)}
stxw [%r10-16], %r1
mov32 %r1, ${be32(daddr)}
stxw [%r10-12], %r1
mov %r1, ${be16(sport)}
stxh [%r10-8], %r1
mov %r1, ${be16(dport)}
stxh [%r10-6], %r1
mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -16
`;
}

/** r0 = lookup `helper` (size, netns, flags as given), NULL -> return 0xdead; else load [sk+off] of `size` into r8, release, return r8. */
function lookupAndRead(helper: number, off: number, ldx = 'ldxw', size = 12, netns = '-1', flags = 0, daddr = SERVER, dport = 80): string {
  return `${tuple4(daddr, dport)}mov %r1, %r6
mov %r3, ${size}
${netns.includes(' ') ? netns : `mov %r4, ${netns}`}
mov %r5, ${flags}
call ${helper}
jne %r0, 0, +2
mov %r0, 0xdead
exit
${ldx} %r8, [%r0+${off}]
mov %r1, %r0
call 86
mov %r0, %r8
exit`;
}

function xdpRun(src: string, host: FakeHost | undefined, engine: EngineName, verify = true): { r0: number; runner: XdpProgramRunner } {
  const runner = new XdpProgramRunner(program(src, BPF_PROG_TYPE.BPF_PROG_TYPE_XDP), { engine, verify });
  runner.env.netHost = host;
  runner.xdp.ingressIfindex = 3;
  const r0 = runner.run();
  return { r0, runner };
}

/** A tc program run on `skb` (r1 is the context; the programs here do not load from it). */
function tcRun(src: string, host: FakeHost, skb: BpfSkb, engine: EngineName, ingress = true): { r0: bigint; env: ExecEnv } {
  const prog = program(src, BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS);
  const v = verifyProgram(prog);
  const prepared = prepareProgram({ type: prog.type, insns: prog.insns, fds: prog.fds });
  const env = new ExecEnv(prepared.maps);
  env.netHost = host;
  env.skb = skb;
  env.skbAtIngress = ingress;
  const e = createEngine(engine, prepared, env, { facts: v.facts });
  env.R[2] = 0;
  env.R[3] = regionTag(REGION_ID.CTX);
  e.run();
  const r0 = (BigInt(env.R[1]! >>> 0) << 32n) | BigInt(env.R[0]! >>> 0);
  env.socks.reset(host);
  return { r0, env };
}

function world(): { host: FakeHost; listener: FakeSock; udp: FakeSock; est: FakeSock; req: FakeSock; v6: FakeSock } {
  const listener = fakeSock({ protocol: IPPROTO_TCP, state: TCP_LISTEN, srcIp4: SERVER, srcPort: 80, cookie: 0x1_0000_0007n });
  const udp = fakeSock({ protocol: IPPROTO_UDP, state: TCP_CLOSE, srcIp4: SERVER, srcPort: 53, cookie: 9n });
  const est = fakeSock({ protocol: IPPROTO_TCP, state: TCP_ESTABLISHED, srcIp4: SERVER, srcPort: 22, dstIp4: CLIENT, dstPort: 40000, cookie: 11n });
  const req = fakeSock({ protocol: IPPROTO_TCP, state: TCP_NEW_SYN_RECV, srcIp4: SERVER, srcPort: 443, cookie: 12n, listener });
  const v6 = fakeSock({ family: AF_INET6, protocol: IPPROTO_TCP, state: TCP_LISTEN, srcPort: 8080, cookie: 13n });
  return { host: new FakeHost([listener, udp, est, req, v6]), listener, udp, est, req, v6 };
}

for (const engine of ENGINES) {
  test(`${engine}: bpf_sk_lookup_tcp finds the listener; struct bpf_sock reads as the host wrote it`, (t) => {
    const { host } = world();
    t.is(xdpRun(lookupAndRead(84, 4), host, engine).r0, AF_INET, 'family');
    t.is(xdpRun(lookupAndRead(84, 12), host, engine).r0, IPPROTO_TCP, 'protocol');
    t.is(xdpRun(lookupAndRead(84, 72), host, engine).r0, TCP_LISTEN, 'state');
    t.is(xdpRun(lookupAndRead(84, 44), host, engine).r0, 80, 'src_port, host order');
    t.is(xdpRun(lookupAndRead(84, 24), host, engine).r0, 0x010200c0, 'src_ip4, network order');
    t.is(xdpRun(lookupAndRead(84, 24, 'ldxb'), host, engine).r0, 0xc0, 'narrow load: the first byte');
    t.is(xdpRun(lookupAndRead(84, 27, 'ldxb'), host, engine).r0, 0x01);
    const c = host.lookups[0]!;
    t.deepEqual([c.ifindex, c.skb, c.kind, c.family, c.netns], [3, null, 0, AF_INET, -1n], 'the XDP receive device, the caller\'s netns');
    t.is(c.tuple, 'c6336401c00002019c400050');
  });

  test(`${engine}: the kernel's argument rules: tuple size, flags, netns`, (t) => {
    const { host } = world();
    t.is(xdpRun(lookupAndRead(84, 4, 'ldxw', 13), host, engine).r0, 0xdead, 'a 13-byte tuple');
    t.is(xdpRun(lookupAndRead(84, 4, 'ldxw', 12, '-1', 1), host, engine).r0, 0xdead, 'flags');
    t.is(host.lookups.length, 0, 'the host is not asked');
    t.is(xdpRun(lookupAndRead(84, 4, 'ldxw', 12, 'lddw %r4, 0x100000000'), host, engine).r0, 0xdead, 'netns above S32_MAX');
    t.is(host.lookups.length, 0);
    t.is(xdpRun(lookupAndRead(84, 4, 'ldxw', 12, '-1'), host, engine).r0, AF_INET, 'BPF_F_CURRENT_NETNS');
    t.is(xdpRun(lookupAndRead(84, 4, 'ldxw', 12, 'mov32 %r4, -1'), host, engine).r0, AF_INET, 'a negative s32 in a zero-extended u64');
    t.deepEqual(host.lookups.map((l) => l.netns), [-1n, -1n]);
    host.lookups.length = 0;
    t.is(xdpRun(lookupAndRead(84, 4, 'ldxw', 12, '7'), host, engine).r0, AF_INET, 'the netns by id');
    t.is(xdpRun(lookupAndRead(84, 4, 'ldxw', 12, '8'), host, engine).r0, 0xdead, 'another netns');
    t.is(xdpRun(lookupAndRead(84, 4, 'ldxw', 12, '0'), host, engine).r0, 0xdead, 'netns id 0 is an id, not the caller\'s');
    const v6 = `mov %r6, %r1\nmov %r1, 0\nstxdw [%r10-40], %r1\nstxdw [%r10-32], %r1\nstxdw [%r10-24], %r1\nstxdw [%r10-16], %r1
stxdw [%r10-8], %r1\nmov %r1, 0x901f\nstxh [%r10-6], %r1\nmov %r2, %r10\nadd %r2, -40\nmov %r1, %r6\nmov %r3, 36\nmov %r4, -1\nmov %r5, 0
call 84\njeq %r0, 0, +4\nldxw %r8, [%r0+4]\nmov %r1, %r0\ncall 86\nmov %r0, %r8\nexit`;
    t.is(xdpRun(v6, host, engine).r0, AF_INET6, 'a 36-byte tuple is IPv6 (the listener on port 8080)');
    t.is(host.lookups.at(-1)!.family, AF_INET6);
  });

  test(`${engine}: no host, no sockets: every lookup is NULL`, (t) => {
    t.is(xdpRun(lookupAndRead(84, 4), undefined, engine).r0, 0xdead);
    t.is(xdpRun(lookupAndRead(99, 4), undefined, engine).r0, 0xdead);
  });

  test(`${engine}: references: released by bpf_sk_release, or by the end of an unverified run that leaks one`, (t) => {
    const { host, est, udp } = world();
    t.is(xdpRun(lookupAndRead(84, 48, 'ldxh', 12, '-1', 0, SERVER, 22), host, engine).r0, 0x409c, 'dst_port, network order (40000)');
    t.is(xdpRun(lookupAndRead(84, 48, 'ldxw', 12, '-1', 0, SERVER, 22), host, engine).r0, 0x409c, 'the legacy 4-byte load');
    t.is(est.refcnt, 0);
    t.is(xdpRun(lookupAndRead(85, 12, 'ldxw', 12, '-1', 0, SERVER, 53), host, engine).r0, IPPROTO_UDP, 'bpf_sk_lookup_udp');
    t.is(udp.refcnt, 0);
    const leak = `${tuple4(SERVER, 22)}mov %r1, %r6\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 84\nmov %r0, 2\nexit`;
    const { runner } = xdpRun(leak, host, engine, false);
    t.is(est.refcnt, 0, 'given back at the end of the run');
    t.is(runner.env.socks.inUse, 0);
  });

  test(`${engine}: use after release faults even unverified`, (t) => {
    const { host } = world();
    const src = `${tuple4(SERVER, 22)}mov %r1, %r6\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 84\nmov %r7, %r0\nmov %r1, %r0\ncall 86\nldxw %r0, [%r7+4]\nexit`;
    const e = t.throws(() => xdpRun(src, host, engine, false));
    t.regex(e?.message ?? '', /^pc 21: /, e?.message);
  });

  test(`${engine}: tc: bpf_skc_lookup_tcp gives a request socket: bpf_sk_fullsock NULL, bpf_tcp_sock its listener's`, (t) => {
    const { host, req } = world();
    const skb = fakeSkb(5);
    const src = `${tuple4(SERVER, 443)}mov %r1, %r6\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 99
jne %r0, 0, +2
mov %r0, 0xdead
exit
mov %r7, %r0
mov %r1, %r0
call 95
mov %r8, 1
jeq %r0, 0, +1
mov %r8, 2
mov %r1, %r7
call 96
jeq %r0, 0, +3
ldxw %r9, [%r0+0]
lsh %r9, 8
or %r8, %r9
mov %r1, %r7
call 86
mov %r0, %r8
exit`;
    t.is(tcRun(src, host, skb, engine).r0, (10n << 8n) | 1n, 'fullsock NULL (1), snd_cwnd 10 of the listener');
    t.is(req.refcnt, 0);
    t.is(host.lookups[0]!.ifindex, 5, 'the skb\'s device');
    t.is(host.lookups[0]!.skb, skb);
  });

  test(`${engine}: tc: bpf_tcp_sock of an established socket: u32 and u64 fields; released through the view`, (t) => {
    const { host, est } = world();
    const src = `${tuple4(SERVER, 22)}mov %r1, %r6\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 84
jne %r0, 0, +2
mov %r0, 0xdead
exit
mov %r7, %r0
mov %r1, %r0
call 96
jne %r0, 0, +4
mov %r1, %r7
call 86
mov %r0, 0xbad
exit
ldxdw %r8, [%r0+80]
ldxw %r9, [%r0+28]
add %r8, %r9
mov %r1, %r0
call 86
mov %r0, %r8
exit`;
    t.is(tcRun(src, host, fakeSkb(5), engine).r0, 0x1_0000_0002n + 1460n);
    t.is(est.refcnt, 0);
  });

  test(`${engine}: tc: bpf_get_listener_sock: a listener itself, a request socket's listener, NULL otherwise`, (t) => {
    const { host, req, est } = world();
    const src = (port: number): string => `${tuple4(SERVER, port)}mov %r1, %r6\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 99
jne %r0, 0, +2
mov %r0, 0xdead
exit
mov %r7, %r0
mov %r1, %r0
call 98
mov %r8, 0
jeq %r0, 0, +1
ldxw %r8, [%r0+44]
mov %r1, %r7
call 86
mov %r0, %r8
exit`;
    t.is(tcRun(src(80), host, fakeSkb(5), engine).r0, 80n, 'the listener');
    t.is(tcRun(src(443), host, fakeSkb(5), engine).r0, 80n, 'the request socket\'s listener');
    t.is(tcRun(src(22), host, fakeSkb(5), engine).r0, 0n, 'an established socket has none');
    t.is(req.refcnt + est.refcnt, 0);
  });

  test(`${engine}: tc: bpf_get_socket_cookie of skb->sk (0 without one)`, (t) => {
    const { host, est } = world();
    t.is(tcRun('call 46\nexit', host, fakeSkb(5, est), engine).r0, 11n);
    t.is(tcRun('call 46\nexit', host, fakeSkb(5, null), engine).r0, 0n);
    const { listener } = world();
    t.is(tcRun('call 46\nexit', host, fakeSkb(5, listener), engine).r0, 0x1_0000_0007n, 'all 64 bits');
  });

  test(`${engine}: tc: bpf_sk_assign hands the socket to the host; flags are refused first, then egress`, (t) => {
    const { host, listener } = world();
    const src = (flags: number): string => `${tuple4(SERVER, 80)}mov %r1, %r6\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 84
jne %r0, 0, +2
mov %r0, 0xdead
exit
mov %r7, %r0
mov %r1, %r6
mov %r2, %r0
mov %r3, ${flags}
call 124
mov %r8, %r0
mov %r1, %r7
call 86
mov %r0, %r8
exit`;
    const skb = fakeSkb(5);
    t.is(BigInt.asIntN(64, tcRun(src(1), host, skb, engine).r0), -22n);
    t.is(BigInt.asIntN(64, tcRun(src(0), host, skb, engine, false).r0), -95n, 'EOPNOTSUPP at egress');
    t.is(host.assigned.length, 0);
    t.is(tcRun(src(0), host, skb, engine).r0, 0n);
    t.is(host.assigned[0]!.sk, listener);
    t.is(skb.sk, listener);
  });

  test(`${engine}: tc: the SYN cookie helpers check th_len, doff and the listener before asking the host`, (t) => {
    const { host } = world();
    // iph (20 bytes) at fp-64, th (20 bytes, doff 5) at fp-40.
    const src = (dport: number, thLen: number, doff: number, helper: number): string => `${tuple4(SERVER, dport)}mov %r1, %r6\nmov %r3, 12\nmov %r4, -1\nmov %r5, 0\ncall 84
jne %r0, 0, +2
mov %r0, 0xdead
exit
mov %r7, %r0
mov %r1, 0
stxdw [%r10-64], %r1
stxdw [%r10-56], %r1
stxdw [%r10-48], %r1
stxdw [%r10-40], %r1
stxdw [%r10-32], %r1
stxdw [%r10-24], %r1
mov %r1, ${doff << 4}
stxb [%r10-28], %r1
mov %r1, %r7
mov %r2, %r10
add %r2, -64
mov %r3, 20
mov %r4, %r10
add %r4, -40
mov %r5, ${thLen}
call ${helper}
mov %r8, %r0
mov %r1, %r7
call 86
mov %r0, %r8
exit`;
    const r = (d: number, l: number, o: number, h: number): bigint => BigInt.asIntN(64, tcRun(src(d, l, o, h), host, fakeSkb(5), engine).r0);
    t.is(r(80, 16, 4, 100), -22n, 'check: th_len < 20');
    t.is(r(22, 20, 5, 100), -22n, 'check: not a listener');
    t.is(host.syncookieChecks, 0);
    t.is(r(80, 20, 5, 100), 0n, 'check: the host\'s answer');
    t.is(host.syncookieChecks, 1);
    t.is(r(80, 20, 6, 110), -22n, 'gen: th_len != doff * 4');
    t.is(r(80, 24, 6, 110), (1460n << 32n) | 0x1234_5678n, 'gen: mss << 32 | cookie');
  });
}
