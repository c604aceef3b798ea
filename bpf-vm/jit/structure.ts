// Control-flow structure for code generation. A function's instructions become JavaScript with
// labelled blocks (forward jumps: `break L`) and labelled loops (backward jumps: `continue L`) when
// the flow is reducible in instruction order; otherwise the caller falls back to a dispatch loop.
//
// Every forward target t gets a block [start, t) that opens at the header of the innermost loop
// containing t (or at the function start). In a reducible layout such blocks and the loops
// [header, last back-edge source] nest properly, which `planStructure` checks rather than assumes.
import { OPCODE_TABLE } from '../isa/legality.ts';
import type { PreparedProgram } from '../prog/prepare.ts';
import { XOP } from '../prog/prepare.ts';

export interface Loop {
  header: number;
  /** Last instruction of the loop body (the furthest back-edge source). */
  end: number;
}

/** A loop or block as the inclusive range of instructions it encloses. */
export interface Construct {
  kind: 'loop' | 'block';
  /** First instruction inside. */
  from: number;
  /** Last instruction inside. */
  to: number;
  /** The loop header or the block's jump target: names the JavaScript label. */
  label: number;
}

export interface StructurePlan {
  /** Outermost first among those opening at the same instruction. */
  constructs: Construct[];
}

/** Where control may go from `pc` by a jump (not fall-through); undefined for non-jumps. */
export function jumpTarget(p: PreparedProgram, pc: number): number | undefined {
  const code = p.code[pc]!;
  const rule = OPCODE_TABLE.get(p.insns[pc]!.code);
  if (code === XOP.CALL_LOCAL || rule === undefined) return undefined;
  if (rule.kind === 'ja' || rule.kind === 'jcond') return pc + 1 + p.off[pc]!;
  if (rule.kind === 'gotol') return pc + 1 + p.imm[pc]!;
  return undefined;
}

/** A plan for [first, last] of one function, or undefined when its flow is not structurable. */
export function planStructure(p: PreparedProgram, first: number, last: number): StructurePlan | undefined {
  const loopEnd = new Map<number, number>();
  const forwardSources = new Map<number, number[]>();
  for (let pc = first; pc <= last; pc++) {
    const t = jumpTarget(p, pc);
    if (t === undefined) continue;
    if (t < first || t > last) return undefined;
    if (t <= pc) loopEnd.set(t, Math.max(loopEnd.get(t) ?? t, pc));
    else forwardSources.set(t, [...(forwardSources.get(t) ?? []), pc]);
  }
  const loops = [...loopEnd].map(([header, end]) => ({ header, end })).sort((a, b) => a.header - b.header || b.end - a.end);
  // Loops must nest: a loop that starts inside another ends inside it too.
  for (let i = 0; i < loops.length; i++) {
    for (let j = i + 1; j < loops.length; j++) {
      const a = loops[i]!, b = loops[j]!;
      if (b.header <= a.end && b.end > a.end) return undefined;
    }
  }
  // The innermost loop around a forward target, not counting a loop that the target itself heads
  // (a jump to a header comes from before the loop and lands where the loop opens).
  const innermost = (t: number): Loop | undefined => {
    let best: Loop | undefined;
    for (const l of loops) if (l.header < t && t <= l.end && (best === undefined || l.header >= best.header)) best = l;
    return best;
  };
  const constructs: Construct[] = loops.map((l) => ({ kind: 'loop' as const, from: l.header, to: l.end, label: l.header }));
  for (const [target, sources] of forwardSources) {
    const start = innermost(target)?.header ?? first;
    // A jump into a loop from outside it (other than to its header) is irreducible in this layout.
    if (sources.some((s) => s < start)) return undefined;
    constructs.push({ kind: 'block', from: start, to: target - 1, label: target });
  }
  // Outer before inner: by start, then by extent; at equal ranges the loop encloses the block.
  constructs.sort((a, b) => a.from - b.from || b.to - a.to || (a.kind === b.kind ? 0 : a.kind === 'loop' ? -1 : 1));
  const open: Construct[] = [];
  for (const c of constructs) {
    while (open.length > 0 && open[open.length - 1]!.to < c.from) open.pop();
    const top = open[open.length - 1];
    if (top !== undefined && top.to < c.to) return undefined;
    open.push(c);
  }
  return { constructs };
}
