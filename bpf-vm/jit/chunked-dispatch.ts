// A large program's dispatch code split over several JavaScript functions. V8 never optimises a
// function whose bytecode is longer than --max-optimized-bytecode-size (60 KiB): one dispatch
// function over thousands of instructions stays in the bytecode interpreter for good and runs
// slower than vxo's own interpreter. Each chunk covers a range of instructions small enough to be
// optimised; its registers are locals, loaded from RS when the driver enters it at some pc and
// stored back into RS when control leaves its range (a jump, a fall-through, a return to a caller
// in another chunk). A chunk returns the next pc, or -1 when the outermost frame exited (r0 in RS).
//
// Chunk code also declares its temporaries once per function rather than as a `const` in each
// instruction's block: V8 gives every such declaration a register of its own, and past 128
// registers each bytecode operand takes a wide prefix, which makes the chunk larger still.
import type { Emitter } from './codegen.ts';

/**
 * Characters of instruction code per chunk (case labels, indentation and pc comments aside). V8's
 * bytecode runs to 0.6-0.85 bytes per character of it (checked accesses the most): a chunk stays
 * near 30-40 KiB of bytecode, well below the limit.
 */
export const CHUNK_CHARS = 48_000;

const REGS = Array.from({ length: 10 }, (_, i) => [`r${i}l`, `r${i}h`]).flat().concat('r10l');
/** RS[i] holds REGS[i]. */
const spill = REGS.map((r, i) => `RS[${i}] = ${r};`).join(' ');
const fill = REGS.map((r, i) => `${r} = RS[${i}]`).join(', ');

/** The names the emitters declare in an instruction's block, declared once per chunk instead. */
const TEMPS = 'let t = 0, a = 0, h = 0, b = 0, v = 0, k, g, c;';
const TEMP_DECL = /([{;] )const ([tahbvkgc]) = /g;

/** [first, end) ranges of about CHUNK_CHARS of code each, ending where control already enters (a leader) when one is near. */
export function chunkRanges(e: Emitter, code: readonly string[], chunkChars = CHUNK_CHARS): [number, number][] {
  const len = e.p.len;
  const out: [number, number][] = [];
  let first = 0;
  while (first < len) {
    let end = first, size = 0, lastLeader = -1;
    for (; end < len && (end === first || size < chunkChars); end++) {
      // A leader in the last eighth: a cut there costs no fall-through across chunks.
      if (e.leaders.has(end) && size > chunkChars - (chunkChars >> 3)) lastLeader = end;
      size += code[end]?.length ?? 0;
    }
    if (end < len && lastLeader > first) end = lastLeader;
    // Never between the two halves of an ld_imm64.
    if (end < len && e.p.insns[end - 1]!.code === 0x18) end++;
    out.push([first, end]);
    first = end;
  }
  return out;
}

function chunk(e: Emitter, code: readonly string[], index: number, first: number, end: number): string {
  const out: string[] = [
    `function c${index}(pc, base) {`,
    `  let ${fill};`,
    `  const r10h = STACK_HI; ${TEMPS}`,
    '  for (;;) switch (pc) {',
  ];
  for (let pc = first; pc < end; pc++) {
    if (pc === first || e.leaders.has(pc)) out.push(`    case ${pc}:`);
    out.push(`      ${code[pc]!} // ${pc}`);
    if (e.p.insns[pc]!.code === 0x18) pc++;
  }
  out.push(
    `      pc = ${end};`,
    // A pc of this chunk with no case is no instruction's start: fault rather than come back forever.
    `    default: if (pc < 0 || pc >= ${e.p.len} || (pc >= ${first} && pc < ${end})) throw F.fellOff(pc); ${spill} return pc;`,
    '  }',
    '}',
  );
  return out.join('\n');
}

/** The chunks and f0, their driver (with f0's usual parameters: callbacks enter it too, at pc0). */
export function chunkedDispatchProgram(e: Emitter, chunkChars = CHUNK_CHARS): { source: string; chunks: number } {
  const code: string[] = [];
  for (let pc = 0; pc < e.p.len; pc++) {
    code[pc] = e.insn(pc, 'chunked').replace(TEMP_DECL, '$1$2 = ');
    if (e.p.insns[pc]!.code === 0x18) pc++;
  }
  const ranges = chunkRanges(e, code, chunkChars);
  const params = REGS.join(', ');
  const pick = ranges.map(([, end], i) => `${i === 0 ? '    ' : '    else '}if (pc < ${end}) pc = c${i}(pc, base);`);
  const source = [
    `const RS = new Int32Array(${REGS.length});`,
    ...ranges.map(([first, end], i) => chunk(e, code, i, first, end)),
    `function f0(${params}, pc0) {`,
    `  ${spill}`,
    '  const base = depth;',
    '  let pc = pc0 | 0;',
    '  for (;;) {',
    ...pick,
    '    else throw F.fellOff(pc);',
    '    if (pc === -1) return RS[0];',
    '  }',
    '}',
  ].join('\n');
  return { source, chunks: ranges.length };
}
