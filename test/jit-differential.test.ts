// Randomized differential test: generated programs (valid but unverified: arbitrary arithmetic,
// loads and stores that may fault, loops that may not end, calls) run on the interpreter and the
// JIT with the same inputs; r0 or the fault, the memory and the stack must be identical.
import test from 'ava';
import { createEngine, type EngineName } from '../bpf-vm/engines.ts';
import { JitEngine } from '../bpf-vm/jit/jit.ts';
import { BpfError } from '../bpf-vm/errors.ts';
import { ExecEnv } from '../bpf-vm/interp/env.ts';
import { Region, REGION_ID, regionTag } from '../bpf-vm/interp/regions.ts';
import { insn, type Insn } from '../bpf-vm/isa/insn.ts';
import { OPCODE_TABLE } from '../bpf-vm/isa/legality.ts';
import { CONFORMANCE_HELPERS } from '../bpf-vm/prog/plain-run.ts';
import { prepareProgram } from '../bpf-vm/prog/prepare.ts';
import { BPF_PROG_TYPE } from '../bpf-vm/prog/types.ts';
import { validateProgram } from '../bpf-vm/prog/validate.ts';

const PROGRAMS = Number(process.env.VXO_DIFF_N ?? 3000);

/** xorshift32, so failures reproduce from the printed seed. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
}

const INTERESTING = [0, 1, -1, 2, 7, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 0xff, 0xffff, 12, -8, 0x1234];

function generate(next: () => number): Insn[] {
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length]!;
  // r9 keeps the memory pointer: arithmetic goes to r0-r8 so most loads and stores stay valid.
  const reg = (): number => next() % 9;
  const src = (): number => next() % 10;
  const imm = (): number => (next() % 3 === 0 ? pick(INTERESTING) : (next() | 0) >> (next() % 32));
  const codes = [...OPCODE_TABLE.values()].filter((r) => r.kind !== 'call' && r.kind !== 'exit' && r.kind !== 'lddw' && r.kind !== 'ldabs' && r.kind !== 'ldind');
  const len = 8 + (next() % 40);
  const out: Insn[] = [];
  // r1 points at the input memory, r2 holds its length: keep a copy in r9 so memory ops stay likely.
  out.push(insn(0xbf, 9, 1));
  while (out.length < len) {
    const r = pick(codes);
    const roll = next() % 10;
    if (roll === 0) { out.push(insn(0x18, reg(), 0, 0, imm()), insn(0, 0, 0, 0, imm())); continue; }
    if (roll === 1) { out.push(insn(0x85, 0, 0, 0, 5)); continue; }
    const base = next() % 2 === 0 ? 10 : 9;
    const memOff = base === 10 ? -8 * (1 + (next() % 8)) : next() % 20;
    const op = r.kind === 'atomic' ? pick([0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1]) : undefined;
    let ins: Insn;
    switch (r.kind) {
      case 'ldx': case 'ldxsx': ins = insn(r.code, reg(), base, memOff); break;
      case 'st': ins = insn(r.code, base, 0, memOff, imm()); break;
      case 'stx': case 'atomic': ins = insn(r.code, base, src(), r.kind === 'atomic' ? memOff & ~7 : memOff, op ?? 0); break;
      case 'ja': ins = insn(r.code, 0, 0, (next() % 7) - 3); break;
      case 'gotol': ins = insn(r.code, 0, 0, 0, (next() % 7) - 3); break;
      case 'jcond': ins = insn(r.code, src(), r.src === 'reg' ? src() : 0, (next() % 9) - 4, r.src === 'reg' ? 0 : imm()); break;
      default: {
        const allowed = (rule: typeof r.off, v: number): number => (rule === 'any' ? v : rule === 'zero' ? 0 : (rule.includes(v) ? v : rule[0]!));
        const immRule = r.imm;
        const i = immRule === 'zero' ? 0 : immRule === 'any' ? imm() : pick(immRule);
        ins = insn(r.code, reg(), r.src === 'reg' ? src() : 0, allowed(r.off, pick([0, 1, 8, 16, 32])), i);
      }
    }
    out.push(ins);
  }
  // A subprogram sometimes, called from the middle.
  if (next() % 4 === 0) {
    const at = 1 + (next() % (out.length - 1));
    if (out[at - 1]?.code !== 0x18) {
      out.splice(at, 0, insn(0x85, 0, 1, 0, out.length - at + 1));
      out.push(insn(0x95), insn(0xbf, 0, reg()), insn(0x07, 0, 0, 0, imm()), insn(0x95));
      return fixJumps(out, next);
    }
  }
  out.push(insn(0x95));
  return fixJumps(out, next);
}

/** Points every jump at an instruction near it (never the second half of an ld_imm64). */
function fixJumps(out: Insn[], next: () => number): Insn[] {
  const second = new Set<number>();
  out.forEach((ins, pc) => { if (ins.code === 0x18) second.add(pc + 1); });
  out.forEach((ins, pc) => {
    if (second.has(pc)) return;
    const kind = OPCODE_TABLE.get(ins.code)?.kind;
    if (kind !== 'ja' && kind !== 'gotol' && kind !== 'jcond') return;
    // Unconditional jumps go forward (a backward one is an endless loop); conditional ones
    // sometimes go back, so loops, budgets and back-edge code are exercised too.
    const back = kind === 'jcond' && next() % 4 === 0;
    let target = Math.min(out.length - 1, back ? Math.max(0, pc - 1 - (next() % 4)) : pc + 1 + (next() % 5));
    while (second.has(target)) target--;
    if (kind === 'gotol') ins.imm = target - pc - 1;
    else ins.off = target - pc - 1;
  });
  return out;
}

interface Outcome { result: string; mem: string; stack: string }

/** `maxFunctionChars`: the JIT splits its dispatch code into functions this long (chunk transitions everywhere). */
function runOn(engine: EngineName, insns: Insn[], input: Uint8Array, maxFunctionChars?: number): Outcome {
  const prog = prepareProgram({ type: BPF_PROG_TYPE.BPF_PROG_TYPE_UNSPEC, insns, helpers: CONFORMANCE_HELPERS });
  const env = new ExecEnv([]);
  const mem = input.slice();
  env.regions[REGION_ID.PACKET] = new Region(REGION_ID.PACKET, 'mem', 'mem', mem, true);
  env.R[2] = 0; env.R[3] = regionTag(REGION_ID.PACKET); env.R[4] = mem.length;
  let result: string;
  try {
    const e = engine === 'jit' && maxFunctionChars !== undefined
      ? new JitEngine(prog, env, { budget: 5000, maxFunctionChars })
      : createEngine(engine, prog, env, { budget: 5000 });
    e.run();
    result = `r0=${(env.R[1]! >>> 0).toString(16)}:${(env.R[0]! >>> 0).toString(16)}`;
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    result = `${e.name}: ${e.message}`;
  }
  return { result, mem: Buffer.from(mem).toString('hex'), stack: Buffer.from(env.regions[REGION_ID.STACK]!.u8).toString('hex') };
}

test(`interpreter and JIT agree on ${PROGRAMS} random programs`, (t) => {
  const next = rng(0x5eed1234);
  let compared = 0, faults = 0, skipped = 0;
  const kinds = new Map<string, number>();
  for (let n = 0; n < PROGRAMS; n++) {
    const insns = generate(next);
    try {
      validateProgram(insns);
    } catch {
      skipped++;
      continue;
    }
    const input = Uint8Array.from({ length: 24 }, () => next() & 0xff);
    const a = runOn('interp', insns, input);
    const b = runOn('jit', insns, input);
    if (a.result.includes("Fault")) { faults++; kinds.set(a.result.replace(/pc \d+: /, "").replace(/ at .*/, "").slice(0, 60), (kinds.get(a.result.replace(/pc \d+: /, "").replace(/ at .*/, "").slice(0, 60)) ?? 0) + 1); }
    t.deepEqual(b, a, `program #${n}: ${JSON.stringify(insns)}`);
    if (JSON.stringify(a) !== JSON.stringify(b)) return;
    compared++;
  }
  t.log(`${compared} programs compared (${faults} ended in a fault), ${skipped} structurally invalid skipped`);
  t.log([...kinds].sort((x, y) => y[1] - x[1]).slice(0, 8).map(([k, v]) => `${v} ${k}`).join("\n"));
  t.true(compared > PROGRAMS / 2);
});

test('interpreter and the JIT split into chunks (a few instructions each) agree on 500 random programs', (t) => {
  const next = rng(0xc4a2c5);
  let compared = 0;
  for (let n = 0; n < 500; n++) {
    const insns = generate(next);
    try { validateProgram(insns); } catch { continue; }
    const input = Uint8Array.from({ length: 24 }, () => next() & 0xff);
    const a = runOn('interp', insns, input);
    const b = runOn('jit', insns, input, 150);
    t.deepEqual(b, a, `program #${n}: ${JSON.stringify(insns)}`);
    if (JSON.stringify(a) !== JSON.stringify(b)) return;
    compared++;
  }
  t.true(compared > 250);
});
