// The engines that execute prepared programs. Every engine runs the same corpus with the same results.
import type { ExecEnv } from './interp/env.ts';
import { DEFAULT_INSN_BUDGET, Interpreter, type InterpreterOptions } from './interp/interpreter.ts';
import { JitEngine } from './jit/jit.ts';
import type { InsnFacts } from './verifier/api.ts';
import type { PreparedProgram } from './prog/prepare.ts';

export type EngineName = 'interp' | 'jit';

/** The engines that exist today; tests iterate over this list. */
export const ENGINES: readonly EngineName[] = ['interp', 'jit'];
export const DEFAULT_ENGINE: EngineName = 'jit';

export interface Engine {
  readonly name: EngineName;
  readonly env: ExecEnv;
  /** Runs from the entry point with r1..r5 as set in env.R; r0 holds the result. */
  run(): void;
}

export interface EngineOptions extends InterpreterOptions {
  /** The verifier's facts: the JIT drops the checks they prove. */
  facts?: readonly (InsnFacts | undefined)[];
}

export function createEngine(name: EngineName, prog: PreparedProgram, env: ExecEnv, opts: EngineOptions = {}): Engine {
  switch (name) {
    case 'interp':
      return new Interpreter(prog, env, opts);
    case 'jit':
      return new JitEngine(prog, env, { facts: opts.facts, budget: opts.budget ?? DEFAULT_INSN_BUDGET });
    default:
      throw new Error(`engine '${name}' is not available (have: ${ENGINES.join(', ')})`);
  }
}

export function isEngineName(s: string): s is EngineName {
  return (ENGINES as readonly string[]).includes(s);
}
