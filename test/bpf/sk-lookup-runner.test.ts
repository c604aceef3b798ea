// SK_LOOKUP at run time on both engines: struct bpf_sk_lookup's loads over a BpfSkLookupKern
// (network-order addresses and remote_port, host-order local_port, narrow loads, the other
// family's addresses 0, the kernel's unshifted 2-byte loads of the 16-bit fields' upper halves), ctx->sk, bpf_sk_assign with and without a stack, the runner's contract,
// and BPF_PROG_TEST_RUN's checks, errnos and ctx_out.
import test from 'ava';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { BPF_SK_LOOKUP_SIZE } from '../../bpf-vm/prog/bpf-sock.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import type { BpfSkLookupKern } from '../../bpf-vm/prog/sock-host.ts';
import { bpfProgTestRunSkLookup } from '../../bpf-vm/prog/test-run-sk-lookup.ts';
import { BPF_PROG_TYPE, type ProgType } from '../../bpf-vm/prog/types.ts';
import { AF_INET, AF_INET6, FakeHost, fakeSock, IPPROTO_TCP, IPPROTO_UDP, TCP_LISTEN } from './sk-fake-host.ts';

const SERVER = 0xc0000201; // 192.0.2.1
const CLIENT = 0xc6336401; // 198.51.100.1

function skProg(src: string, type: number = BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP): Program {
  return { name: 'skl', section: 'sk_lookup', type: type as ProgType, insns: assemble(src), funcs: [], license: 'GPL', fds: new FdTable() };
}

function v4ctx(): BpfSkLookupKern {
  const z = { w0: 0, w1: 0, w2: 0, w3: 0 };
  return {
    family: AF_INET, protocol: IPPROTO_TCP, v4_saddr: CLIENT, v4_daddr: SERVER, v6_saddr: z, v6_daddr: z,
    sport: 40000, dport: 80, ingress_ifindex: 4, selected_sk: null, no_reuseport: false,
  };
}

function v6ctx(): BpfSkLookupKern {
  return {
    family: AF_INET6, protocol: IPPROTO_UDP, v4_saddr: 0, v4_daddr: 0,
    v6_saddr: { w0: 0x20010db8, w1: 0, w2: 0, w3: 1 }, v6_daddr: { w0: 0xfd000000, w1: 0, w2: 0, w3: 2 },
    sport: 5353, dport: 53, ingress_ifindex: 2, selected_sk: null, no_reuseport: false,
  };
}

/** [instruction, offset, value for v4ctx(), value for v6ctx()]. */
const LOADS: readonly [string, number, number, number][] = [
  ['ldxw', 8, AF_INET, AF_INET6], ['ldxb', 8, AF_INET, AF_INET6], ['ldxh', 10, AF_INET, AF_INET6], ['ldxh', 14, IPPROTO_TCP, IPPROTO_UDP], ['ldxb', 14, 0, 0], ['ldxw', 12, IPPROTO_TCP, IPPROTO_UDP],
  ['ldxw', 16, 0x016433c6, 0], ['ldxb', 16, 0xc6, 0], ['ldxb', 19, 0x01, 0], ['ldxh', 18, 0x0164, 0],
  ['ldxw', 20, 0, 0xb80d0120], ['ldxb', 20, 0, 0x20], ['ldxw', 32, 0, 0x01000000], ['ldxb', 35, 0, 0x01],
  ['ldxh', 36, 0x409c, 0xe914], ['ldxw', 36, 0x409c, 0xe914], ['ldxb', 36, 0x9c, 0x14], ['ldxb', 37, 0x40, 0xe9],
  ['ldxh', 38, 0, 0], ['ldxb', 39, 0, 0],
  ['ldxw', 40, 0x010200c0, 0], ['ldxw', 44, 0, 0x000000fd], ['ldxw', 56, 0, 0x02000000],
  ['ldxw', 60, 80, 53], ['ldxh', 60, 80, 53], ['ldxh', 62, 80, 53], ['ldxb', 62, 0, 0], ['ldxb', 60, 80, 53], ['ldxw', 64, 4, 2],
];

for (const engine of ENGINES) {
  test(`${engine}: every field of struct bpf_sk_lookup, IPv4 and IPv6, in every width the verifier allows`, (t) => {
    for (const [ldx, off, v4, v6] of LOADS) {
      const r = new SkLookupProgramRunner(skProg(`${ldx} %r0, [%r1+${off}]\nexit`), { engine, verify: false });
      t.is(r.run(v4ctx()), v4, `${ldx} ${off} v4`);
      t.is(r.run(v6ctx()), v6, `${ldx} ${off} v6`);
      // Each is one the verifier accepts (the returned value aside).
      t.notThrows(() => new SkLookupProgramRunner(skProg(`${ldx} %r0, [%r1+${off}]\nand %r0, 1\nexit`), { engine }));
    }
  });

  test(`${engine}: ctx->sk: NULL, then the selected socket's struct bpf_sock, held without a reference`, (t) => {
    const listener = fakeSock({ protocol: IPPROTO_TCP, state: TCP_LISTEN, srcIp4: SERVER, srcPort: 80, cookie: 5n });
    const host = new FakeHost([listener]);
    const r = new SkLookupProgramRunner(skProg('ldxdw %r2, [%r1+0]\nmov %r0, 0\njeq %r2, 0, +2\nldxw %r0, [%r2+44]\nldxdw %r2, [%r1+0]\nexit'), { engine, verify: false, netHost: host });
    t.is(r.run(v4ctx()), 0);
    const ctx = v4ctx();
    ctx.selected_sk = listener;
    t.is(r.run(ctx), 80);
    t.is(r.env.socks.inUse, 0, 'the slot goes at the end of the run');
    t.is(host.releases, 0, 'no reference to drop');
  });

  test(`${engine}: bpf_sk_assign: the stack's checks, REPLACE, NO_REUSEPORT`, (t) => {
    const tcp = fakeSock({ protocol: IPPROTO_TCP, state: TCP_LISTEN, srcPort: 80 });
    const host = new FakeHost([tcp]);
    // Re-assigns ctx->sk with the flags in r7; returns SK_PASS if the helper returned 0.
    const src = (flags: number): string => `mov %r6, %r1\nldxdw %r2, [%r1+0]\nmov %r3, ${flags}\ncall 124\nmov %r1, %r0\nmov %r0, 1\njeq %r1, 0, +1\nmov %r0, 0\nexit`;
    const run = (flags: number, ctx: BpfSkLookupKern): number => new SkLookupProgramRunner(skProg(src(flags)), { engine, netHost: host }).run(ctx);
    const ctx = v4ctx();
    ctx.selected_sk = tcp;
    t.is(run(0, ctx), 0, 'EEXIST without REPLACE');
    t.is(run(1 | 2, ctx), 1, 'REPLACE');
    t.true(ctx.no_reuseport);
    t.is(run(4, ctx), 0, 'an unknown flag');
    const udp = v4ctx();
    udp.protocol = IPPROTO_UDP;
    udp.selected_sk = tcp;
    t.is(run(1, udp), 0, 'EPROTOTYPE');
  });

  test(`${engine}: without a stack, bpf_sk_assign(ctx, NULL, flags) follows the selection rules`, (t) => {
    const src = (flags: number): string => `mov %r2, 0\nmov %r3, ${flags}\ncall 124\nexit`;
    const raw = (flags: number): number => new SkLookupProgramRunner(skProg(src(flags)), { engine, verify: false }).run(v4ctx()) | 0;
    t.is(raw(0), 0);
    t.is(raw(1), 0);
    t.is(raw(8), -22);
  });
}

test('the runner refuses other program types, and verifies SK_PASS/SK_DROP', (t) => {
  t.throws(() => new SkLookupProgramRunner(skProg('mov %r0, 1\nexit', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP)), { instanceOf: BpfError, message: /not an SK_LOOKUP program/ });
  t.throws(() => new SkLookupProgramRunner(skProg('mov %r0, 2\nexit')), { message: /should have been in \[0, 1\]/ });
});

/** struct bpf_sk_lookup for ctx_in. */
function ctxIn(f: Partial<Record<'family' | 'protocol' | 'remote_ip4' | 'local_ip4' | 'remote_port' | 'local_port', number>>, extra = 0): Uint8Array {
  const b = new Uint8Array(BPF_SK_LOOKUP_SIZE + extra);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, f.family ?? AF_INET, true);
  dv.setUint32(12, f.protocol ?? IPPROTO_TCP, true);
  dv.setUint32(16, f.remote_ip4 ?? CLIENT, false);
  dv.setUint16(36, f.remote_port ?? 40000, false);
  dv.setUint32(40, f.local_ip4 ?? SERVER, false);
  dv.setUint32(60, f.local_port ?? 80, true);
  return b;
}

const errno = (f: () => unknown): string | undefined => {
  try { f(); return undefined; } catch (e) { return e instanceof BpfError ? e.code : String(e); }
};

for (const engine of ENGINES) {
  test(`${engine}: BPF_PROG_TEST_RUN: retval, ctx_out = ctx_in with cookie 0, repeat`, (t) => {
    const pass = skProg('ldxw %r0, [%r1+60]\nmov %r1, %r0\nmov %r0, 0\njne %r1, 80, +1\nmov %r0, 1\nexit');
    const input = ctxIn({});
    input[38] = 7; // the padding after remote_port comes back as it went in
    const r = bpfProgTestRunSkLookup(pass, { ctxIn: input, engine, repeat: 3 });
    t.is(r.retval, 1);
    t.is(r.repeat, 3);
    t.deepEqual(r.ctxOut, input);
    t.is(bpfProgTestRunSkLookup(pass, { ctxIn: ctxIn({ local_port: 81 }), engine }).retval, 0);
    // A short ctx_in is zero-extended; zero bytes past the struct are accepted.
    t.is(bpfProgTestRunSkLookup(pass, { ctxIn: ctxIn({}).subarray(0, 64), engine }).ctxOut.length, BPF_SK_LOOKUP_SIZE);
    t.is(bpfProgTestRunSkLookup(pass, { ctxIn: ctxIn({}, 8), engine }).retval, 1);
  });

  test(`${engine}: BPF_PROG_TEST_RUN: the kernel's refusals and errnos`, (t) => {
    const p = skProg('mov %r0, 1\nexit');
    const sk = ctxIn({});
    sk[0] = 1;
    t.is(errno(() => bpfProgTestRunSkLookup(p, { ctxIn: sk, engine })), 'EINVAL', 'sk/cookie set');
    const ifx = ctxIn({});
    ifx[64] = 1;
    t.is(errno(() => bpfProgTestRunSkLookup(p, { ctxIn: ifx, engine })), 'EINVAL', 'ingress_ifindex set');
    t.is(errno(() => bpfProgTestRunSkLookup(p, { ctxIn: ctxIn({ local_port: 65536 }), engine })), 'ERANGE');
    t.is(errno(() => bpfProgTestRunSkLookup(p, { ctxIn: ctxIn({ family: 0 }), engine })), 'EAFNOSUPPORT');
    const long = ctxIn({}, 4);
    long[73] = 1;
    t.is(errno(() => bpfProgTestRunSkLookup(p, { ctxIn: long, engine })), 'E2BIG');
    t.is(errno(() => bpfProgTestRunSkLookup(p, { ctxIn: ctxIn({}), dataIn: new Uint8Array(14), engine })), 'EINVAL', 'data_in');
    t.is(errno(() => bpfProgTestRunSkLookup(p, { ctxIn: ctxIn({}), cpu: 1, engine })), 'EINVAL', 'cpu');
    t.is(errno(() => bpfProgTestRunSkLookup(skProg('mov %r0, 1\nexit', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP), { ctxIn: ctxIn({}), engine })), 'EINVAL');
  });

  test(`${engine}: BPF_PROG_TEST_RUN: a selection comes back as the socket's cookie, only with SK_PASS`, (t) => {
    const listener = fakeSock({ protocol: IPPROTO_TCP, state: TCP_LISTEN, srcPort: 80, cookie: 0x1234_5678_9abcn });
    const host = new FakeHost([listener]);
    // Unverified: bpf_sk_assign of a socket the test put in ctx->sk has no BPF way here (no sockmap),
    // so the host's selection is driven through a host whose sk_assign_lookup picks the listener.
    const picking = Object.assign(Object.create(host) as FakeHost, {
      sk_assign_lookup(ctx: BpfSkLookupKern): number { ctx.selected_sk = listener; return 0; },
    });
    const src = (ret: number): string => `mov %r2, 0\nmov %r3, 0\ncall 124\nmov %r0, ${ret}\nexit`;
    const pass = bpfProgTestRunSkLookup(skProg(src(1)), { ctxIn: ctxIn({}), engine, netHost: picking });
    t.is(pass.retval, 1);
    t.is(new DataView(pass.ctxOut.buffer).getBigUint64(0, true), 0x1234_5678_9abcn);
    const reuse = Object.assign(Object.create(picking) as FakeHost, { sk_reuseport: () => true });
    t.is(errno(() => bpfProgTestRunSkLookup(skProg(src(1)), { ctxIn: ctxIn({}), engine, netHost: reuse })), 'EOPNOTSUPP', 'a reuseport group without NO_REUSEPORT');
    const drop = bpfProgTestRunSkLookup(skProg(src(0)), { ctxIn: ctxIn({}), engine, netHost: picking });
    t.is(drop.retval, 0);
    t.is(new DataView(drop.ctxOut.buffer).getBigUint64(0, true), 0n, 'a dropping program\'s pick is discarded');
  });
}
