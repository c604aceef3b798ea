// The verifier's contract with its callers (loaders, the CLI, the guest and host, the JIT).
import { BpfError, type BpfErrorCode } from '../errors.ts';

/**
 * The kernel's log_level bits: 1 (BPF_LOG_LEVEL1) the path to an error, 2 (BPF_LOG_LEVEL2) every
 * instruction's state, 4 (BPF_LOG_STATS) the statistics; combinations as the kernel allows them.
 */
export type VerifierLogLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Whether `n` is a log level the kernel accepts (BPF_LOG_LEVEL1 | BPF_LOG_LEVEL2 | BPF_LOG_STATS). */
export const isVerifierLogLevel = (n: number): n is VerifierLogLevel => Number.isInteger(n) && n >= 0 && n <= 7;

export interface VerifyOptions {
  /**
   * 0: no log (a rejection still logs the error and the closing line); 1: the path to the error, and
   * for an accepted program the closing `processed ...` line alone; 2: every instruction's state;
   * 4 (alone or added to 1 or 2): the `verification time` and `stack depth` lines before the closing one.
   * Source lines (BTF line info, `; text @ file:line`) come before the instructions they start.
   */
  logLevel?: VerifierLogLevel;
  /**
   * The most bytes the log keeps (the kernel's log_size), default 16 MiB - 1 (libbpf's first buffer):
   * past it the oldest lines are dropped, as the kernel's rotating log keeps the tail.
   */
  logSize?: number;
  /** Processed-instruction budget (BPF_COMPLEXITY_LIMIT_INSNS), default 1_000_000. */
  maxProcessed?: number;
  /**
   * Read never-written stack bytes as unknown data instead of rejecting (what the kernel allows a
   * loader with CAP_PERFMON). Default false: stack slots must be written before they are read.
   */
  allowUninitStack?: boolean;
  /**
   * Let pointers be stored into map values as numbers (what the kernel allows a loader with
   * CAP_PERFMON). Default true; false rejects them with the kernel's `R1 leaks addr into map`.
   * A pointer returned by the program is always refused (`R0 leaks addr as return value`): the
   * return value is the program's verdict, handed to the host.
   */
  allowPtrLeaks?: boolean;
}

/** Where a load or store's base pointer points, proven on every path that reaches the instruction. */
export type MemKind = 'ctx' | 'packet' | 'packet_meta' | 'stack' | 'map_value' | 'socket'
  /** PTR_TO_BTF_ID: a kernel struct of vxo's kernel BTF (the load is the kernel's BPF_PROBE_MEM: a NULL base reads 0). */
  | 'btf';

export interface InsnFacts {
  /** For LDX/ST/STX/atomic: what the base register points to, on every path reaching this pc. */
  mem?: {
    kind: MemKind;
    /** index into the program's map table (PreparedProgram.maps) for map_value */
    map?: number;
    /** For 'btf': the struct's type id in kernelBtf() (the base register's type on every path). */
    btfId?: number;
  };
  /** Registers whose value is the same known constant on every path reaching this pc (before it runs). */
  consts?: ReadonlyMap<number, bigint>;
  /** Registers (0..10) proven to have a zero upper half before this pc runs, on every path. */
  upperZero?: number;
}

export interface VerifyStats {
  /** Instructions processed (the kernel's "processed N insns"). */
  processed: number;
  totalStates: number;
  peakStates: number;
  maxStatesPerInsn: number;
  /** Deepest stack use of any frame, bytes. */
  stackDepth: number[];
}

export interface VerifyResult {
  log: string;
  stats: VerifyStats;
  /** Per instruction slot; undefined for unreachable slots and ld_imm64 second halves. */
  facts: readonly (InsnFacts | undefined)[];
  /**
   * Every load through a PTR_TO_BTF_ID the program may execute, deduplicated: the run time fills
   * these fields of vxo's objects (and only these) into a BTF-typed pointer's bytes.
   */
  btfReads: readonly BtfRead[];
}

/** A load through a PTR_TO_BTF_ID: `size` bytes at byte `off` (fixed offset + insn offset) of struct `structId` (kernelBtf()). */
export interface BtfRead {
  readonly structId: number;
  readonly off: number;
  readonly size: number;
}

/** A program the verifier rejected. `log` is what the kernel's log buffer would hold. */
export class VerifierError extends BpfError {
  readonly log: string;
  readonly pc: number;
  readonly processed: number;
  constructor(code: BpfErrorCode, message: string, opts: { log: string; pc: number; processed: number; cause?: unknown }) {
    super(code, message, { cause: opts.cause });
    this.name = 'VerifierError';
    this.log = opts.log;
    this.pc = opts.pc;
    this.processed = opts.processed;
  }
}
