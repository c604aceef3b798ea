// Errors carry a stable `code` (an errno name where one fits) so callers branch on codes, not messages.
import { ERRNO, type ErrnoName } from './errno.ts';

export type BpfErrorCode = ErrnoName | 'EVERIFY' | 'EFAULT_RUN' | 'ELIMIT';

export class BpfError extends Error {
  readonly code: BpfErrorCode;
  constructor(code: BpfErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BpfError';
    this.code = code;
  }
  /** The errno number for codes that have one (used when errors cross the control queue). */
  get errno(): number {
    return (ERRNO as Record<string, number>)[this.code] ?? ERRNO.EINVAL;
  }
}

/** An instruction or program that is not well formed (unknown opcode, bad jump, reserved fields). */
export class InvalidProgramError extends BpfError {
  readonly pc: number;
  /** `code` is EINVAL but for a helper the kernel has and vxo does not implement (EOPNOTSUPP). */
  constructor(pc: number, message: string, code: BpfErrorCode = 'EINVAL') {
    super(code, `insn ${pc}: ${message}`);
    this.name = 'InvalidProgramError';
    this.pc = pc;
  }
}

/** An ELF object that cannot be turned into a spec: names the section and the byte offset. */
export class ElfError extends BpfError {
  readonly section: string;
  readonly offset: number;
  constructor(section: string, offset: number, message: string, options?: { cause?: unknown }) {
    super('EINVAL', `${section}+0x${offset.toString(16)}: ${message}`, options);
    this.name = 'ElfError';
    this.section = section;
    this.offset = offset;
  }
}

/** A run that stopped on a bad memory access, a bad call or an exhausted budget. */
export class RuntimeFault extends BpfError {
  readonly pc: number;
  constructor(pc: number, message: string, code: BpfErrorCode = 'EFAULT_RUN') {
    super(code, `pc ${pc}: ${message}`);
    this.name = 'RuntimeFault';
    this.pc = pc;
  }
}

/** An assembler source line that does not parse. */
export class AsmError extends BpfError {
  readonly line: number;
  constructor(line: number, message: string) {
    super('EINVAL', `line ${line}: ${message}`);
    this.name = 'AsmError';
    this.line = line;
  }
}
