// A loaded program: instructions whose map references carry fds, and the fd table that resolves them.
import type { FuncInfo, LineInfo } from '../elf/spec.ts';
import type { Insn } from '../isa/insn.ts';
import type { FdTable } from './fd-table.ts';
import type { ProgType } from './types.ts';

export interface Program {
  readonly name: string;
  readonly section: string;
  readonly type: ProgType;
  readonly insns: readonly Insn[];
  readonly funcs: readonly FuncInfo[];
  /** As ProgramSpec.noFuncInfo: the verifier treats the program as having no BTF function info. */
  readonly noFuncInfo?: true;
  /** BTF line info, sorted by slot (objects built with -g). */
  readonly lineInfo?: readonly LineInfo[];
  readonly license: string;
  readonly fds: FdTable;
}
