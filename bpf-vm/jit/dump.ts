// The JavaScript the JIT generates for a program, for `vxo prog jit-dump` and golden tests.
import type { PreparedProgram } from '../prog/prepare.ts';
import type { InsnFacts } from '../verifier/api.ts';
import { generate } from './codegen.ts';
import { DEFAULT_INSN_BUDGET } from '../interp/interpreter.ts';

export function jitSource(prog: PreparedProgram, facts?: readonly (InsnFacts | undefined)[]): string {
  const g = generate({ prog, facts, budget: DEFAULT_INSN_BUDGET });
  return `// vxo JIT: ${prog.len} insns, ${g.mode} control flow${g.chunks === undefined ? '' : ` in ${g.chunks} functions`}${facts ? ', verified' : ', unverified (every access checked)'}\n${g.source}\n`;
}
