// bpf-vm's verifier: verifyProgram(prog, opts) accepts a program (returning its log, statistics and
// per-instruction facts) or throws a VerifierError carrying the kernel-style log.
import { InvalidProgramError } from '../errors.ts';
import { helpersFor } from '../helpers/table.ts';
import { BPF_MAXINSNS_PRIVILEGED, validateProgram } from '../prog/validate.ts';
import type { Program } from '../prog/program.ts';
import { VerifierError, type VerifyOptions, type VerifyResult } from './api.ts';
import { buildCfg, checkStructure, type Cfg } from './cfg.ts';
import { checkCombinedStack } from './calls.ts';
import { Env, resolveMaps } from './env.ts';
import { Reject } from './env-types.ts';
import { Facts } from './facts.ts';
import { computeLiveness } from './liveness.ts';
import { computePrecision } from './precision.ts';
import { DEFAULT_LOG_SIZE, VLog } from './log.ts';
import { Checker } from './verifier.ts';
import { addKfuncCalls } from './kfunc-call.ts';
import { checkTailCallSubprogs, hasFuncInfo } from './tail-call.ts';

export { VerifierError, isVerifierLogLevel } from './api.ts';
export type { BtfRead, InsnFacts, MemKind, VerifyOptions, VerifyResult, VerifyStats, VerifierLogLevel } from './api.ts';

const DEFAULT_LIMIT = 1_000_000;

function closing(processed: number, limit: number, checker?: Checker): string {
  const e = checker?.explored;
  return `processed ${processed} insns (limit ${limit}) max_states_per_insn ${e?.maxStatesPerInsn ?? 0} ` +
    `total_states ${e?.totalStates ?? 0} peak_states ${e?.totalStates ?? 0} mark_read 0`;
}

/**
 * print_verification_stats: at BPF_LOG_STATS the verification time and each subprogram's stack
 * depth (rounded up to 8 bytes, as the kernel grows a frame's stack), then the closing line.
 */
function closeLog(log: VLog, start: bigint, processed: number, limit: number, checker?: Checker, env?: Env): void {
  if (log.stats) {
    log.always(`verification time ${(process.hrtime.bigint() - start) / 1000n} usec`);
    const depths = env?.stackDepth ?? [0];
    log.always(`stack depth ${depths.map((d) => Math.ceil(d / 8) * 8).join('+')}`);
  }
  log.always(closing(processed, limit, checker));
}

const CLASS_WORD: Readonly<Record<number, string>> = { 1: 'BPF_LDX', 2: 'BPF_ST', 3: 'BPF_STX' };

/** The kernel's words for the structural errors validateProgram reports in its own. */
function kernelWording(msg: string): string {
  const op = /^unknown opcode 0x([0-9a-f]+)/.exec(msg);
  if (op) return `unknown opcode ${op[1]}`;
  if (msg.includes('r10 is read-only')) return 'frame pointer is read only';
  if (msg.startsWith('incomplete ld_imm64')) return 'invalid bpf_ld_imm64 insn';
  const mid = /into the middle of ld_imm64 at insn (\d+)/.exec(msg);
  if (mid) return `jump into the middle of ldimm64 insn ${mid[1]}`;
  if (msg.startsWith('invalid register')) return `R${/r(\d+)/.exec(msg)?.[1] ?? '?'} is invalid`;
  const rf = /^reserved field (\w+)=\S+ for opcode 0x([0-9a-f]+)/.exec(msg);
  if (rf) {
    const code = parseInt(rf[2]!, 16);
    const cls = code & 7, op = code & 0xf0;
    if (cls === 4 || cls === 7) {
      if (op === 0x80) return 'BPF_NEG uses reserved fields';
      if (op === 0xd0) return 'BPF_END uses reserved fields';
      if (op === 0xb0) return 'BPF_MOV uses reserved fields';
      return 'BPF_ALU uses reserved fields';
    }
    if (cls === 5 || cls === 6) {
      if (op === 0x80) return 'BPF_CALL uses reserved fields';
      if (op === 0x90) return 'BPF_EXIT uses reserved fields';
      if (op === 0x00) return 'BPF_JA uses reserved fields';
      return 'BPF_JMP/JMP32 uses reserved fields';
    }
    if (cls === 0) return code === 0x18 ? 'unrecognized bpf_ld_imm64 insn' : 'BPF_LD_[ABS|IND] uses reserved fields';
    if (cls === 3 && (code & 0xe0) === 0xc0) return rf[1] === 'imm' ? `BPF_ATOMIC uses invalid atomic opcode ${rf[0].split('=')[1]}` : 'BPF_ATOMIC uses reserved fields';
    return `${CLASS_WORD[cls] ?? 'BPF'} uses reserved fields`;
  }
  return msg;
}

function validateCode(e: InvalidProgramError): 'EINVAL' | 'E2BIG' {
  return e.message.includes('BPF program is too large') ? 'E2BIG' : 'EINVAL';
}

export function verifyProgram(prog: Program, opts: VerifyOptions = {}): VerifyResult {
  const start = process.hrtime.bigint();
  const level = opts.logLevel ?? 0;
  const limit = opts.maxProcessed ?? DEFAULT_LIMIT;
  const logSize = opts.logSize ?? DEFAULT_LOG_SIZE;
  let env: Env | undefined;
  let checker: Checker | undefined;
  let resolved: ReturnType<typeof resolveMaps> | undefined;
  let cfg: Cfg | undefined;
  try {
    try {
      if (prog.insns.length > 0 && prog.insns.length <= BPF_MAXINSNS_PRIVILEGED) {
        checkStructure(prog.insns);
        addKfuncCalls(prog);
        resolved = resolveMaps(prog);
        cfg = buildCfg(prog.insns);
      }
      validateProgram(prog.insns);
    } catch (e) {
      if (e instanceof InvalidProgramError) throw new Reject(validateCode(e), kernelWording(e.message.replace(/^insn \d+: /, '')), [], e.pc);
      throw e;
    }
    const { maps, mapAt } = resolved ?? resolveMaps(prog);
    cfg ??= buildCfg(prog.insns);
    const helpers = helpersFor(prog.type);
    const live = computeLiveness(prog.insns, cfg, (id) => helpers.get(id)?.args.length ?? 5);
    const precision = computePrecision(prog.insns, cfg, (id) => helpers.get(id));
    env = new Env(prog, prog.insns, maps, mapAt, helpers, cfg, live, precision, new Facts(prog.insns.length), {
      logLevel: level, allowUninitStack: opts.allowUninitStack ?? false, allowPtrLeaks: opts.allowPtrLeaks ?? true, logSize,
    });
    if (prog.lineInfo !== undefined) env.log.setLineInfo(prog.lineInfo);
    checkTailCallSubprogs(env, hasFuncInfo(prog) ? prog.funcs : []);
    checker = new Checker(env, limit);
    checker.run();
    checkCombinedStack(env);
    if (env.ctxConvertFault) throw new Reject('EFAULT', 'verifier bug: error during ctx access conversion (0)');
    // An accepted program's walk is forgotten below level 2; level 0 logs nothing at all.
    env.log.accepted();
    if (level !== 0) closeLog(env.log, start, checker.processed, limit, checker, env);
    return {
      log: env.log.text(),
      stats: {
        processed: checker.processed,
        totalStates: checker.explored.totalStates,
        peakStates: checker.explored.totalStates,
        maxStatesPerInsn: checker.explored.maxStatesPerInsn,
        stackDepth: [...env.stackDepth],
      },
      facts: env.facts.result(cfg.second),
      btfReads: [...env.btfReads.values()],
    };
  } catch (e) {
    const log = env?.log ?? new VLog(level, logSize);
    const processed = checker?.processed ?? 0;
    const pc = (e instanceof Reject ? e.pc : undefined) ?? env?.pc ?? 0;
    if (e instanceof Reject) {
      log.always(e.message);
      for (const x of e.extra) log.always(x);
      closeLog(log, start, processed, limit, checker, env);
      throw new VerifierError(e.code, e.message, { log: log.text(), pc, processed, cause: e });
    }
    const msg = `verifier internal error: ${(e as Error).message}`;
    log.always(msg);
    closeLog(log, start, processed, limit, checker, env);
    throw new VerifierError('EFAULT', msg, { log: log.text(), pc, processed, cause: e });
  }
}
