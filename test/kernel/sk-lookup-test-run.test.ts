// bpfProgTestRunSkLookup against the kernel's BPF_PROG_TEST_RUN for SK_LOOKUP (npm run test:kernel):
// the same programs and ctx_in, the same retval, errno and ctx_out, on both engines. Loads are
// compared field by field: each program returns SK_PASS only if a load gives the value the uapi
// says it holds for that ctx_in (computed here from the bytes, independently of vxo's code), so a
// retval of 1 on both sides means both loaded the same value. No sockets are involved (the test
// run has no stack), so the selection is always empty and the cookie 0.
import type { ExecutionContext } from 'ava';
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import { bpfProgTestRunSkLookup } from '../../bpf-vm/prog/test-run-sk-lookup.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { kernelSkLoad } from './sk-lookup-kernel.ts';

const SK_LOOKUP = BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP;

function prog(src: string): Program {
  return { name: 'skl', section: 'sk_lookup', type: SK_LOOKUP, insns: assemble(src), funcs: [], license: 'GPL', fds: new FdTable() };
}

/** A ctx_in: family, protocol, addresses and ports; the remote_port padding and the other family's addresses hold junk. */
function ctxIn(family: number, protocol: number, v6: boolean): Uint8Array {
  const b = new Uint8Array(72);
  const dv = new DataView(b.buffer);
  dv.setUint32(8, family, true);
  dv.setUint32(12, protocol, true);
  dv.setUint32(16, 0xc6336401, false);
  dv.setUint32(40, 0xc0000201, false);
  for (let i = 0; i < 16; i++) { b[20 + i] = 0x20 + i; b[44 + i] = 0xf0 - i; }
  dv.setUint16(36, v6 ? 5353 : 40000, false);
  b[38] = 0x55;
  b[39] = 0xaa;
  dv.setUint32(60, v6 ? 53 : 80, true);
  return b;
}

const CTXS: readonly [string, Uint8Array][] = [
  ['IPv4 TCP', ctxIn(2, 6, false)],
  ['IPv6 UDP, family and protocol above 16 bits', ctxIn(0x1000a, 0x20011, true)],
];

/** What a load of `size` bytes at `off` gives, per the uapi and the kernel's context rewriting. */
function expected(ctx: Uint8Array, off: number, size: number): number {
  const dv = new DataView(ctx.buffer);
  const family = dv.getUint32(8, true) & 0xffff;
  const m = new Uint8Array(72);
  m.set(ctx);
  const mv = new DataView(m.buffer);
  mv.setUint32(8, family, true);
  mv.setUint32(12, dv.getUint32(12, true) & 0xffff, true);
  m.fill(0, 38, 40); // the padding reads 0
  if (family === 2) m.fill(0, 20, 36).fill(0, 44, 60);
  else { m.fill(0, 16, 20); m.fill(0, 40, 44); }
  m.fill(0, 64, 72); // ingress_ifindex: no device in a test run
  // A 4-byte load of remote_port reads the 2-byte field.
  if (off === 36 && size === 4) return mv.getUint16(36, true);
  // family, protocol and local_port are 16-bit in the kernel's struct: a 2-byte load of the upper
  // half of the uapi's 32-bit field loads the 16-bit field itself (the rewrite shifts only loads
  // narrower than the field it reads).
  if (size === 2 && (off === 10 || off === 14 || off === 62)) return mv.getUint16(off - 2, true);
  return size === 4 ? mv.getUint32(off, true) : size === 2 ? mv.getUint16(off, true) : m[off]!;
}

const LOADS: readonly [string, number, number][] = [
  ['ldxw', 8, 4], ['ldxh', 8, 2], ['ldxb', 9, 1], ['ldxh', 10, 2], ['ldxw', 12, 4], ['ldxb', 12, 1], ['ldxh', 14, 2], ['ldxb', 14, 1],
  ['ldxw', 16, 4], ['ldxb', 17, 1], ['ldxh', 18, 2], ['ldxw', 20, 4], ['ldxw', 24, 4], ['ldxh', 30, 2], ['ldxb', 35, 1],
  ['ldxw', 36, 4], ['ldxh', 36, 2], ['ldxb', 36, 1], ['ldxb', 37, 1], ['ldxh', 38, 2], ['ldxb', 39, 1],
  ['ldxw', 40, 4], ['ldxb', 43, 1], ['ldxw', 44, 4], ['ldxw', 52, 4], ['ldxh', 58, 2],
  ['ldxw', 60, 4], ['ldxh', 60, 2], ['ldxb', 61, 1], ['ldxh', 62, 2], ['ldxb', 62, 1], ['ldxb', 63, 1], ['ldxw', 64, 4], ['ldxh', 66, 2],
];

/** SK_PASS iff the load gives `value`. */
const compare = (ldx: string, off: number, value: number): string =>
  `${ldx} %r1, [%r1+${off}]\nmov %r0, 0\nlddw %r2, ${value}\njne %r1, %r2, +1\nmov %r0, 1\nexit`;

function same(t: ExecutionContext, src: string, ctx: Uint8Array, what: string, want?: number): void {
  const p = prog(src);
  const k = kernelSkLoad(p.insns, { progType: SK_LOOKUP, ctxIn: ctx });
  t.true(k.accepted, `${what}: ${k.log.split('\n').slice(-4).join('\n')}`);
  const kr = k.run!;
  t.is(kr.errno, undefined, what);
  if (want !== undefined) t.is(kr.retval, want, `${what}: the kernel`);
  for (const engine of ENGINES) {
    const r = bpfProgTestRunSkLookup(p, { ctxIn: ctx, engine });
    t.is(r.retval, kr.retval, `${what}: ${engine}`);
    t.deepEqual(Buffer.from(r.ctxOut).toString('hex'), Buffer.from(kr.ctxOut).toString('hex'), `${what}: ${engine} ctx_out`);
  }
}

for (const [name, ctx] of CTXS) {
  kernelTest(`${name}: every field load gives the same value as the kernel's`, (t) => {
    for (const [ldx, off, size] of LOADS) same(t, compare(ldx, off, expected(ctx, off, size)), ctx, `${ldx} ${off}`, 1);
  });
}

kernelTest('ctx->sk is NULL in a test run; SK_DROP and SK_PASS come back as retval', (t) => {
  const ctx = CTXS[0]![1];
  same(t, 'ldxdw %r2, [%r1+0]\nmov %r0, 0\njne %r2, 0, +1\nmov %r0, 1\nexit', ctx, 'sk NULL', 1);
  same(t, 'mov %r0, 0\nexit', ctx, 'drop', 0);
  same(t, 'mov %r0, 1\nexit', ctx, 'pass', 1);
});

kernelTest('bpf_sk_assign(ctx, NULL, flags): the same return value for every flag', (t) => {
  const ctx = CTXS[0]![1];
  for (const flags of ['0', '1', '2', '3', '4', '0x100000000']) {
    const call = `mov %r6, %r1\nmov %r2, 0\nlddw %r3, ${flags}\ncall 124\n`;
    // vxo's raw return value (unverified, so r0 may be anything), then the same test on both sides.
    const raw = new SkLookupProgramRunner(prog(`${call}exit`), { verify: false }).run({
      family: 2, protocol: 6, v4_saddr: 0, v4_daddr: 0, v6_saddr: { w0: 0, w1: 0, w2: 0, w3: 0 }, v6_daddr: { w0: 0, w1: 0, w2: 0, w3: 0 },
      sport: 0, dport: 0, ingress_ifindex: 0, selected_sk: null, no_reuseport: false,
    }) | 0;
    same(t, `${call}mov %r1, %r0\nmov %r0, 0\njne %r1, ${raw}, +1\nmov %r0, 1\nexit`, ctx, `flags ${flags} -> ${raw}`, 1);
  }
});

kernelTest('ctx_in refusals: the same errno as the kernel\'s', (t) => {
  const p = prog('mov %r0, 1\nexit');
  const base = CTXS[0]![1];
  const variants: [string, (b: Uint8Array) => Uint8Array][] = [
    ['sk set', (b) => { b[0] = 1; return b; }],
    ['cookie high byte set', (b) => { b[7] = 1; return b; }],
    ['ingress_ifindex set', (b) => { b[64] = 1; return b; }],
    ['tail padding set', (b) => { b[70] = 1; return b; }],
    ['local_port 65536', (b) => { new DataView(b.buffer).setUint32(60, 65536, true); return b; }],
    ['family 0', (b) => { new DataView(b.buffer).setUint32(8, 0, true); return b; }],
    ['family AF_UNIX', (b) => { new DataView(b.buffer).setUint32(8, 1, true); return b; }],
    ['longer, non-zero past the struct', (b) => { const l = new Uint8Array(80); l.set(b); l[76] = 1; return l; }],
    ['longer, zero past the struct', (b) => { const l = new Uint8Array(80); l.set(b); return l; }],
    ['shorter', (b) => b.slice(0, 40)],
  ];
  for (const [what, f] of variants) {
    const ctx = f(base.slice());
    const k = kernelSkLoad(p.insns, { progType: SK_LOOKUP, ctxIn: ctx });
    const kerr = k.run!.errno;
    for (const engine of ENGINES) {
      let err: string | undefined;
      try {
        const r = bpfProgTestRunSkLookup(p, { ctxIn: ctx, engine });
        t.is(r.retval, k.run!.retval, `${what}: retval`);
        t.is(Buffer.from(r.ctxOut).toString('hex'), Buffer.from(k.run!.ctxOut).toString('hex'), `${what}: ctx_out`);
      } catch (e) {
        if (!(e instanceof BpfError)) throw e;
        err = e.code;
      }
      t.is(err, kerr, `${what} (${engine})`);
    }
  }
});
