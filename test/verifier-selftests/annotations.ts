// A runner for verifier tests written in the kernel selftests' annotation style (__success,
// __failure, __msg("..."), __retval(N), __log_level(N) between SEC("...") and the function): the
// annotations are read from the C source, the program from its committed object (one program per
// file, so that the kernel can load each on its own).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine, ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { helpersFor } from '../../bpf-vm/helpers/table.ts';
import { ExecEnv } from '../../bpf-vm/interp/env.ts';
import { Region, REGION_ID } from '../../bpf-vm/interp/regions.ts';
import { prepareProgram } from '../../bpf-vm/prog/prepare.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import type { ProgType } from '../../bpf-vm/prog/types.ts';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { isVerifierLogLevel, verifyProgram, VerifierError } from '../../bpf-vm/verifier/index.ts';

export const SELFTEST_DIR = fileURLToPath(new URL('./', import.meta.url));

export interface Expectation {
  /** The C file's base name (its object is `<file>.o`). */
  file: string;
  program: string;
  section: string;
  /** true: __success, false: __failure, undefined: neither given. */
  success: boolean | undefined;
  /** Substrings the log must hold, in order (__msg). */
  msgs: string[];
  retval: number | undefined;
  logLevel: number;
}

const PROGRAM = /SEC\("([^"]+)"\)\s*((?:__\w+(?:\((?:"(?:[^"\\]|\\.)*"|[^)]*)\))?\s*)*)(?:static\s+)?(?:int|long|__u32|__u64)\s+(\w+)\s*\(/g;
const ANNOTATION = /__(\w+)(?:\(((?:"(?:[^"\\]|\\.)*")|[^)]*)\))?/g;

export function parseAnnotations(file: string, src: string): Expectation[] {
  const out: Expectation[] = [];
  for (const m of src.matchAll(PROGRAM)) {
    const e: Expectation = { file, program: m[3]!, section: m[1]!, success: undefined, msgs: [], retval: undefined, logLevel: 1 };
    for (const a of (m[2] ?? '').matchAll(ANNOTATION)) {
      const arg = a[2]?.trim();
      switch (a[1]) {
        case 'success': e.success = true; break;
        case 'failure': e.success = false; break;
        case 'msg': e.msgs.push(JSON.parse(arg ?? '""') as string); break;
        case 'retval': e.retval = Number(arg); break;
        case 'log_level': e.logLevel = Number(arg); break;
        default: break;
      }
    }
    out.push(e);
  }
  return out;
}

/** Every annotated program of the directory. */
export function selftestPrograms(dir = SELFTEST_DIR): Expectation[] {
  return readdirSync(dir).filter((f) => f.endsWith('.c')).sort()
    .flatMap((f) => parseAnnotations(f.replace(/\.c$/, ''), readFileSync(join(dir, f), 'utf8')));
}

/** The frame test runs get: 64 bytes, the first 16 then 1, 2, 3 ... */
export const SELFTEST_FRAME = new Uint8Array(64).map((_, i) => (i === 0 ? 16 : i));

export interface Outcome {
  accepted: boolean;
  log: string;
  /** A rejection's message (the log's error line). */
  message?: string;
  retvals: Partial<Record<EngineName, number>>;
}

export function vxoOutcome(e: Expectation, dir = SELFTEST_DIR): Outcome {
  const obj = join(dir, `${e.file}.o`);
  try {
    const logLevel = isVerifierLogLevel(e.logLevel) ? e.logLevel : 1;
    const r = verifyProgram(loadObjectFile(obj).program(e.program), { logLevel });
    const retvals: Outcome['retvals'] = {};
    if (e.retval !== undefined && e.section.startsWith('xdp')) {
      for (const engine of ENGINES) retvals[engine] = bpfProgTestRun(loadObjectFile(obj).program(e.program), { dataIn: SELFTEST_FRAME, engine }).retval;
    } else if (e.retval !== undefined && e.section === 'socket') {
      for (const engine of ENGINES) retvals[engine] = socketRun(engine, loadObjectFile(obj).program(e.program), SELFTEST_FRAME);
    }
    return { accepted: true, log: r.log, retvals };
  } catch (err) {
    if (!(err instanceof VerifierError)) throw err;
    return { accepted: false, log: err.log, message: err.message, retvals: {} };
  }
}

/**
 * r0 of a socket filter over `packet` on one engine. Only LD_ABS/LD_IND reach the packet (vxo has
 * no __sk_buff context: r1 is 0), from its first byte; the kernel's test run starts them after the
 * Ethernet header, so a fixture that compares return values reads past the end of either.
 */
function socketRun(engine: EngineName, prog: Program, packet: Uint8Array): number {
  const p = prepareProgram({ type: prog.type as ProgType, insns: prog.insns, helpers: helpersFor(prog.type) });
  const env = new ExecEnv([]);
  env.regions[REGION_ID.PACKET] = new Region(REGION_ID.PACKET, 'mem', 'mem', packet.slice(), false);
  createEngine(engine, p, env, { budget: 100_000 }).run();
  return env.R[0]! >>> 0;
}

/** Where an outcome departs from the annotations (empty: it agrees). */
export function disagreements(e: Expectation, o: Outcome): string[] {
  const out: string[] = [];
  if (e.success !== undefined && e.success !== o.accepted) out.push(o.accepted ? 'accepted, expected a failure' : `rejected (${o.message ?? '?'}), expected success`);
  let from = 0;
  for (const m of e.msgs) {
    const i = o.log.indexOf(m, from);
    if (i < 0) { out.push(`log lacks '${m}'`); break; }
    from = i + m.length;
  }
  if (e.retval !== undefined && o.accepted) {
    for (const [engine, v] of Object.entries(o.retvals)) if (v !== e.retval) out.push(`${engine} returned ${v}, expected ${e.retval}`);
  }
  return out;
}

export type Verdict = 'agree' | 'unsound' | 'strict' | 'other';

/**
 * vxo beside the kernel on one program: 'unsound' when vxo accepts what the kernel rejects (the JIT
 * trusts the verifier: a memory-safety bug in the host), 'strict' when vxo rejects what the kernel
 * accepts, 'other' when both agree on the verdict but a message or return value differs.
 */
export function compareWithKernel(vxo: Outcome, kernel: { accepted: boolean; log: string; retval?: number }, e: Expectation): Verdict {
  if (vxo.accepted && !kernel.accepted) return 'unsound';
  if (!vxo.accepted && kernel.accepted) return 'strict';
  if (!vxo.accepted && vxo.message !== undefined && !kernel.log.includes(vxo.message)) return 'other';
  if (e.retval !== undefined && kernel.retval !== undefined && Object.values(vxo.retvals).some((v) => v !== kernel.retval)) return 'other';
  return 'agree';
}

/** Programs on which vxo departs from the kernel on purpose (bpf-vm/verifier/README.md). */
export const DELIBERATE: Readonly<Record<string, string>> = {
  stack_uninit_read: 'vxo refuses reads of unwritten stack (allowUninitStack gives the kernel\'s behaviour for CAP_PERFMON loaders)',
};
