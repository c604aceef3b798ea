// Translates a prepared program into the source of one JavaScript factory. Each bpf function
// becomes a JavaScript function over int32 register locals with structured control flow; a program
// whose flow cannot be structured becomes a single dispatch loop that mirrors the interpreter.
import { BPF_FUNC } from '../helpers/ids.ts';
import { ARG } from '../helpers/proto.ts';
import { OPCODE_TABLE } from '../isa/legality.ts';
import { BPF_MAP_TYPE } from '../maps/map.ts';
import { BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD, MAX_BPF_STACK, MAX_CALL_FRAMES } from '../isa/opcodes.ts';
import type { PreparedProgram } from '../prog/prepare.ts';
import { XOP } from '../prog/prepare.ts';
import { ldImm64Seconds } from '../prog/validate.ts';
import { BPF_PROG_TYPE } from '../prog/types.ts';
import { XDP_MD } from '../prog/xdp.ts';
import { BPF_SK_LOOKUP, SK_BUFF } from '../prog/bpf-sock.ts';
import type { InsnFacts } from '../verifier/api.ts';
import { emitAlu32, emitAlu64, emitMovsx, immOperand, jumpCondition, regOperand } from './emit-alu.ts';
import { emitAtomic, emitLoad, emitStore, type MemContext, type RegionViews } from './emit-mem.ts';
import { jumpTarget, planStructure, type Construct } from './structure.ts';
import { CHUNK_CHARS, chunkedDispatchProgram } from './chunked-dispatch.ts';

export interface CodegenInput {
  prog: PreparedProgram;
  /** The verifier's per-instruction facts; without them every access keeps its run-time check. */
  facts?: readonly (InsnFacts | undefined)[];
  budget: number;
  /** Source characters past which a function is split into chunks (default MAX_FUNCTION_CHARS; tests lower it). */
  maxFunctionChars?: number;
}

export interface GeneratedCode {
  source: string;
  /** 'structured' when every function compiled to blocks and loops, else 'dispatch'. */
  mode: 'structured' | 'dispatch';
  /** Functions the dispatch code is split into when one would be too long to optimise (chunked-dispatch.ts). */
  chunks?: number;
}

/** Registers passed to a bpf function: the caller's r0-r9 (so unwritten registers read alike) and r10. */
const PARAMS = [...Array.from({ length: 10 }, (_, i) => `r${i}l, r${i}h`), 'r10l'].join(', ');
const ARGS = (r10: string): string => [...Array.from({ length: 10 }, (_, i) => `r${i}l, r${i}h`), r10].join(', ');

/** 'chunked': dispatch code split over several functions (chunked-dispatch.ts); a frame's exit leaves r0 in RS. */
export type Flow = 'structured' | 'dispatch' | 'chunked';

/**
 * The longest generated function kept whole, in source characters: at 0.6-0.85 bytes of bytecode
 * per character (more once block temporaries pass 128 registers), longer ones come near V8's
 * --max-optimized-bytecode-size (60 KiB), past which a function is never optimised.
 */
const MAX_FUNCTION_CHARS = 60_000;

export class Emitter {
  readonly p: PreparedProgram;
  readonly facts: readonly (InsnFacts | undefined)[];
  readonly leaders = new Set<number>();
  /** Dispatch code a helper may enter again at a callback (a frame's exit then returns at its base depth). */
  reentrant = false;
  private readonly isXdp: boolean;
  /** tc and socket filters: a __sk_buff context, and helpers that may move skb->head. */
  private readonly isSkb: boolean;
  private readonly second: Uint8Array;

  constructor(readonly input: CodegenInput) {
    this.p = input.prog;
    this.second = ldImm64Seconds(this.p.insns);
    this.facts = input.facts ?? [];
    this.isXdp = this.p.type === BPF_PROG_TYPE.BPF_PROG_TYPE_XDP;
    const t = this.p.type;
    this.isSkb = t === BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS || t === BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT || t === BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER;
  }

  functionStarts(): number[] {
    const starts = new Set([0, ...this.callbackTargets()]);
    for (let pc = 0; pc < this.p.len; pc++) if (this.p.code[pc] === XOP.CALL_LOCAL) starts.add(pc + 1 + this.p.imm[pc]!);
    return [...starts].sort((a, b) => a - b);
  }

  /** Functions whose address the program takes (ld_imm64 BPF_PSEUDO_FUNC): what a helper may call back. */
  callbackTargets(): number[] {
    const out = new Set<number>();
    for (let pc = 0; pc < this.p.len; pc++) {
      if (this.second[pc]) continue;
      if (this.p.code[pc] === 0x18 && this.p.src[pc] === BPF_PSEUDO_LD.BPF_PSEUDO_FUNC) out.add(this.p.imm[pc]!);
    }
    return [...out].sort((a, b) => a - b);
  }

  private memContext(pc: number): MemContext {
    return {
      pc,
      facts: this.facts[pc],
      viewsFor: (f) => this.views(f),
      ctxField: (off, size, d) => this.ctxField(off, size, d),
      skbCtx: this.isSkb,
    };
  }

  private views(f: InsnFacts): RegionViews | undefined {
    const m = f.mem;
    if (m === undefined) return undefined;
    if (m.kind === 'packet' || m.kind === 'packet_meta') return { dv: 'P_DV', u8: 'P_U8', i32: 'P_I32', obj: 'PKT' };
    if (m.kind === 'stack') return { dv: 'S_DV', u8: 'S_U8', i32: 'S.i32', obj: 'S' };
    if (m.kind === 'map_value' && m.map !== undefined && m.map < this.p.maps.length) {
      return { dv: `M${m.map}_DV`, u8: `M${m.map}_U8`, i32: `M${m.map}.i32`, obj: `M${m.map}` };
    }
    return undefined;
  }

  private ctxField(off: number, size: number, d: number): string | undefined {
    if (this.p.type === BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP) return skLookupField(off, size, d);
    if (this.p.type === BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS || this.p.type === BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT ||
      this.p.type === BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER) return skbField(off, size, d);
    if (!this.isXdp || size !== 4) return undefined;
    const l = `r${d}l`, h = `r${d}h`;
    switch (off) {
      case XDP_MD.data: return `${l} = X.data; ${h} = PKT_HI;`;
      case XDP_MD.data_end: return `${l} = X.dataEnd; ${h} = PKT_HI;`;
      case XDP_MD.data_meta: return `${l} = X.dataMeta; ${h} = PKT_HI;`;
      // u32 fields: locals always hold int32 bit patterns.
      case XDP_MD.ingress_ifindex: return `${l} = X.ingressIfindex | 0; ${h} = 0;`;
      case XDP_MD.rx_queue_index: return `${l} = X.rxQueueIndex | 0; ${h} = 0;`;
      default: return undefined;
    }
  }

  /** The map an ld_imm64 left in r1 earlier in the same basic block, for inlining lookups. */
  private constMapInR1(pc: number): number | undefined {
    if (this.leaders.has(pc)) return undefined;
    for (let q = pc - 1; q >= 0; q--) {
      if (this.second[q]) continue;
      const ins = this.p.insns[q]!;
      if (ins.code === 0x18 && ins.dst === 1) {
        return ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD ? this.p.imm[q + 1]! & 0xffff : undefined;
      }
      const rule = OPCODE_TABLE.get(ins.code);
      if (rule === undefined || (rule.writesDst && ins.dst === 1) || rule.kind === 'call') return undefined;
      if (rule.kind === 'atomic' && ins.src === 1) return undefined;
      // Control can reach q from elsewhere: what r1 holds there is not known here.
      if (this.leaders.has(q)) return undefined;
    }
    return undefined;
  }

  private helperCall(pc: number, flow: Flow): string {
    const h = this.p.helpers[pc]!;
    // A kfunc's id is a BTF id, not a helper's: none of the helper special cases apply.
    const kfunc = this.p.src[pc] === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL;
    const mapIdx = !kfunc && h.id === BPF_FUNC.map_lookup_elem ? this.constMapInR1(pc) : undefined;
    const map = mapIdx === undefined ? undefined : this.p.maps[mapIdx];
    if (mapIdx !== undefined && map !== undefined && map.spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY) {
      // ARRAY lookups inline: index < max_entries ? &values[index * elem] : NULL.
      const elem = (map.spec.valueSize + 7) & ~7;
      const key = this.facts[pc] !== undefined
        ? `const g = RG[r2h & 0xffff], k = g.dv.getUint32(r2l >>> 0, true);`
        : `const h = r2h, a = r2l >>> 0, g = RG[h & 0xffff]; if (g === undefined || (h >>> 16) !== 0xffff || a < g.lo || a + 4 > g.hi) throw F.helperMemFault(${pc}, 'bpf_map_lookup_elem key', 4, r2l, r2h, g); const k = g.dv.getUint32(a, true);`;
      return `{ ${key} if (k < ${map.spec.maxEntries}) { r0l = (k * ${elem}) | 0; r0h = M${mapIdx}_HI; } else { r0l = 0; r0h = 0; } }`;
    }
    if (!kfunc && h.id === BPF_FUNC.redirect_map) {
      const di = this.constMapInR1(pc);
      if (di !== undefined && this.p.maps[di]?.spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP) {
        // A constant DEVMAP: straight to the redirect, with no argument spill and no map lookup by pointer.
        return `r0l = RTM(env, MO[${di}], r2l, r3l, r3h); r0h = 0;`;
      }
    }
    // Helpers read only the arguments their prototype declares.
    let spill = '';
    for (let r = 1; r <= Math.min(5, h.args.length); r++) spill += `R[${2 * r}] = r${r}l; R[${2 * r + 1}] = r${r}h; `;
    // A helper that calls back into the program needs this frame's r10 for the callback's frame.
    const fp = this.reentrant && h.args.includes(ARG.ARG_PTR_TO_FUNC) ? 'CB_FP = r10l; ' : '';
    // An skb helper that changes packet data may have given the skb a new head (bpf_skb_change_tail
    // growing past the buffer): the packet views are taken again from the rebound region.
    const rebind = this.isSkb && h.changesPktData === true ? ' PKT = RG[1]; P_DV = PKT.dv; P_U8 = PKT.u8;' : '';
    const call = `${spill}${fp}env.pc = ${pc}; H${pc}.impl(env); r0l = R[0]; r0h = R[1];${rebind}`;
    // bpf_tail_call ran its target: this frame ends with the target's r0, as an exit would.
    if (!kfunc && h.id === BPF_FUNC.tail_call) return `${call} if (env.tailCalled) { env.tailCalled = false; ${this.exit(flow)} }`;
    return call;
  }

  private jump(pc: number, t: number, flow: Flow): string {
    const back = t <= pc;
    const budget = back ? `if ((budget -= ${pc + 1 - t}) < 0) throw F.budgetFault(${pc}, BUDGET); ` : '';
    if (flow !== 'structured') return `{ ${budget}pc = ${t}; continue; }`;
    return back ? `{ ${budget}continue L${t}; }` : `break B${t};`;
  }

  private call(pc: number, flow: Flow): string {
    const t = pc + 1 + this.p.imm[pc]!;
    const enter = `if (depth + 1 >= ${MAX_CALL_FRAMES}) throw F.callDepthFault(${pc}); `;
    if (flow === 'structured') {
      return `{ ${enter}depth++; S.lo -= ${MAX_BPF_STACK}; if ((budget -= 1) < 0) throw F.budgetFault(${pc}, BUDGET); ` +
        `r0l = f${t}(${ARGS(`r10l - ${MAX_BPF_STACK}`)}); r0h = RET_HI; S.lo += ${MAX_BPF_STACK}; depth--; }`;
    }
    const save = Array.from({ length: 9 }, (_, i) => `SV[b + ${2 * i}] = r${i + 1}l; SV[b + ${2 * i + 1}] = r${i + 1}h;`).join(' ');
    return `{ ${enter}const b = depth * 19; ${save} SV[b + 18] = r10l; RP[depth++] = ${pc + 1}; r10l -= ${MAX_BPF_STACK}; S.lo -= ${MAX_BPF_STACK}; ` +
      `if ((budget -= 1) < 0) throw F.budgetFault(${pc}, BUDGET); pc = ${t}; continue; }`;
  }

  private exit(flow: Flow): string {
    if (flow === 'structured') return 'RET_HI = r0h; return r0l;';
    const restore = Array.from({ length: 9 }, (_, i) => `r${i + 1}l = SV[b + ${2 * i}]; r${i + 1}h = SV[b + ${2 * i + 1}];`).join(' ');
    // A chunk returns the next pc to its driver: the outermost frame's r0 goes back through RS, -1 says so.
    const ret = flow === 'chunked' ? 'RET_HI = r0h; RS[0] = r0l; return -1;' : 'RET_HI = r0h; return r0l;';
    return `{ if (depth === ${this.reentrant || flow === 'chunked' ? 'base' : '0'}) { ${ret} } depth--; S.lo += ${MAX_BPF_STACK}; const b = depth * 19; ${restore} r10l = SV[b + 18]; pc = RP[depth]; continue; }`;
  }

  /** One instruction's statement(s). */
  insn(pc: number, flow: Flow): string {
    const p = this.p;
    const code = p.code[pc]!;
    const d = p.dst[pc]!, s = p.src[pc]!, off = p.off[pc]!, imm = p.imm[pc]!;
    const raw = p.insns[pc]!.code;
    const rule = OPCODE_TABLE.get(raw);
    const cls = raw & 0x07;
    const b = (raw & 0x08) !== 0 ? regOperand(s) : immOperand(imm);
    if (code === XOP.CALL_LOCAL) return this.call(pc, flow);
    if (code === XOP.MOVSX64_8 || code === XOP.MOVSX64_16 || code === XOP.MOVSX64_32 || code === XOP.MOVSX32_8 || code === XOP.MOVSX32_16) return emitMovsx(code, d, s);
    switch (rule?.kind) {
      case 'alu': case 'neg': case 'end': case 'bswap':
        return cls === 0x07 ? emitAlu64(code, d, b, imm) : emitAlu32(code, d, b, imm);
      case 'ja': case 'gotol': return this.jump(pc, jumpTarget(p, pc)!, flow);
      case 'jcond': {
        // A 64-bit compare of values the verifier proved below 2^32 is a 32-bit unsigned compare,
        // signed or not (both are non-negative).
        const uz = this.facts[pc]?.upperZero ?? 0;
        const narrow = cls === 0x05 && (uz & (1 << d)) !== 0 && ((raw & 0x08) !== 0 ? (uz & (1 << s)) !== 0 : imm >= 0);
        const op = narrow ? unsignedOf(raw & 0xf0) : raw & 0xf0;
        return `if (${jumpCondition(op, cls === 0x05 && !narrow, d, b)}) ${this.jump(pc, pc + 1 + off, flow)}`;
      }
      case 'call': return this.helperCall(pc, flow);
      case 'exit': return this.exit(flow);
      case 'lddw': return `r${d}l = ${imm | 0}; r${d}h = ${p.imm[pc + 1]! | 0};`;
      case 'ldx': return emitLoad(this.memContext(pc), d, s, off, rule.wide ? 8 : sizeOf(raw), false);
      case 'ldxsx': return emitLoad(this.memContext(pc), d, s, off, sizeOf(raw), true);
      case 'st': { const v = immOperand(imm); return emitStore(this.memContext(pc), d, off, rule.wide ? 8 : sizeOf(raw), v.l, v.h); }
      case 'stx': return emitStore(this.memContext(pc), d, off, rule.wide ? 8 : sizeOf(raw), `r${s}l`, `r${s}h`);
      case 'atomic': return emitAtomic(this.memContext(pc), d, s, off, rule.wide ? 8 : 4, imm);
      case 'ldabs': case 'ldind': {
        const index = rule.kind === 'ldind' ? ` + r${s}l` : '';
        return `{ const v = F.legacyPacketLoad(env, ${pc}, ${sizeOf(raw)}, ${imm}${index}); if (v === undefined) { r0l = 0; r0h = 0; ${this.exit(flow)} } r0l = v; r0h = 0; }`;
      }
      default: return `throw F.unknownOpcode(${pc}, ${raw});`;
    }
  }
}

/** The unsigned comparison that agrees with `op` on operands known to be non-negative. */
function unsignedOf(op: number): number {
  switch (op) {
    case 0x60: return 0x20; // JSGT -> JGT
    case 0x70: return 0x30; // JSGE -> JGE
    case 0xc0: return 0xa0; // JSLT -> JLT
    case 0xd0: return 0xb0; // JSLE -> JLE
    default: return op;
  }
}

function sizeOf(code: number): 1 | 2 | 4 {
  const sz = code & 0x18;
  return sz === 0x10 ? 1 : sz === 0x08 ? 2 : 4;
}

function structuredFunction(e: Emitter, first: number, last: number, constructs: readonly Construct[]): string {
  const out: string[] = [`function f${first}(${PARAMS}) {`, '  const r10h = STACK_HI;'];
  const open: Construct[] = [];
  let next = 0;
  for (let pc = first; pc <= last; pc++) {
    while (open.length > 0 && open[open.length - 1]!.to < pc) {
      const c = open.pop()!;
      out.push(`${'  '.repeat(open.length + 1)}${c.kind === 'loop' ? 'break; }' : '}'}`);
    }
    while (next < constructs.length && constructs[next]!.from === pc) {
      const c = constructs[next++]!;
      out.push(`${'  '.repeat(open.length + 1)}${c.kind === 'loop' ? `L${c.label}: for (;;) {` : `B${c.label}: {`}`);
      open.push(c);
    }
    out.push(`${'  '.repeat(open.length + 1)}${e.insn(pc, 'structured')} // ${pc}`);
    if (e.p.insns[pc]!.code === 0x18) pc++;
  }
  while (open.length > 0) out.push(`${'  '.repeat(open.length)}${open.pop()!.kind === 'loop' ? 'break; }' : '}'}`);
  out.push(`  throw F.fellOff(${last});`, '}');
  return out.join('\n');
}

function dispatchProgram(e: Emitter): string {
  const out: string[] = e.reentrant
    ? [`function f0(${PARAMS}, pc0) {`, '  const r10h = STACK_HI, base = depth;', '  let pc = pc0 | 0;', '  for (;;) switch (pc) {']
    : [`function f0(${PARAMS}) {`, '  const r10h = STACK_HI;', '  let pc = 0;', '  for (;;) switch (pc) {'];
  for (let pc = 0; pc < e.p.len; pc++) {
    if (pc === 0 || e.leaders.has(pc)) out.push(`    case ${pc}:`);
    out.push(`      ${e.insn(pc, 'dispatch')} // ${pc}`);
    if (e.p.insns[pc]!.code === 0x18) pc++;
  }
  out.push('    default: throw F.fellOff(pc);', '  }', '}');
  return out.join('\n');
}

export function generate(input: CodegenInput): GeneratedCode {
  const e = new Emitter(input);
  const p = input.prog;
  for (let pc = 0; pc < p.len; pc++) {
    const t = jumpTarget(p, pc);
    if (t !== undefined) e.leaders.add(t);
    if (p.code[pc] === XOP.CALL_LOCAL) { e.leaders.add(pc + 1 + p.imm[pc]!); e.leaders.add(pc + 1); }
  }
  const cbTargets = e.callbackTargets();
  for (const t of cbTargets) e.leaders.add(t);
  e.reentrant = cbTargets.length > 0;
  const starts = e.functionStarts();
  const funcs: string[] = [];
  let mode: GeneratedCode['mode'] = 'structured';
  for (let i = 0; i < starts.length; i++) {
    const first = starts[i]!, last = (starts[i + 1] ?? p.len) - 1;
    const lastRule = OPCODE_TABLE.get(p.insns[last]!.code);
    const closed = lastRule?.kind === 'exit' || lastRule?.kind === 'ja' || lastRule?.kind === 'gotol';
    const plan = closed ? planStructure(p, first, last) : undefined;
    if (plan === undefined) { mode = 'dispatch'; break; }
    funcs.push(structuredFunction(e, first, last, plan.constructs));
  }
  if (mode === 'dispatch') funcs.splice(0, funcs.length, dispatchProgram(e));
  // A function too long for V8 to optimise (chunked-dispatch.ts): the program in chunks, whatever its flow.
  const maxChars = input.maxFunctionChars ?? MAX_FUNCTION_CHARS;
  let chunks: number | undefined;
  if (funcs.some((f) => f.length > maxChars)) {
    mode = 'dispatch';
    const c = chunkedDispatchProgram(e, Math.min(CHUNK_CHARS, maxChars));
    chunks = c.chunks;
    funcs.splice(0, funcs.length, c.source);
  }

  const maps = p.maps.map((_, i) => `const M${i} = MR[${i}], M${i}_DV = M${i}.dv, M${i}_U8 = M${i}.u8, M${i}_HI = MHI[${i}];`);
  const helpers = p.helpers.flatMap((h, pc) => (h ? [`const H${pc} = HP[${pc}];`] : []));
  // A helper's callback: a frame above the helper caller's (CB_FP), r1-r5 from R, r0 back in R.
  const cbArgs = (t: number): string => mode === 'dispatch'
    ? `f0(0, 0, R[2], R[3], R[4], R[5], R[6], R[7], R[8], R[9], R[10], R[11], 0, 0, 0, 0, 0, 0, 0, 0, fp - ${MAX_BPF_STACK}, ${t})`
    : `f${t}(0, 0, R[2], R[3], R[4], R[5], R[6], R[7], R[8], R[9], R[10], R[11], 0, 0, 0, 0, 0, 0, 0, 0, fp - ${MAX_BPF_STACK})`;
  const callback = cbTargets.length === 0 ? [] : [
    'function CB(t) {',
    `  if (depth + 1 >= ${MAX_CALL_FRAMES}) throw F.callDepthFault(env.pc);`,
    '  const fp = CB_FP, hpc = env.pc; let r;',
    `  depth++; S.lo -= ${MAX_BPF_STACK};`,
    '  try {',
    '    switch (t) {',
    ...cbTargets.map((t) => `      case ${t}: r = ${cbArgs(t)}; break;`),
    '      default: throw F.notFunc(hpc, t);',
    '    }',
    `  } finally { S.lo += ${MAX_BPF_STACK}; depth--; CB_FP = fp; env.pc = hpc; }`,
    '  R[0] = r; R[1] = RET_HI;',
    '}',
    'env.callFunc = CB;',
  ];
  const source = [
    '"use strict";',
    ...maps,
    ...helpers,
    'const S_DV = S.dv, S_U8 = S.u8;',
    `let P_DV = null, P_U8 = null, PKT = null, budget = 0, depth = 0, RET_HI = 0${cbTargets.length > 0 ? ', CB_FP = 0' : ''};`,
    ...(mode === 'dispatch' ? [`const SV = new Int32Array(${MAX_CALL_FRAMES * 19}), RP = new Int32Array(${MAX_CALL_FRAMES});`] : []),
    ...funcs,
    ...callback,
    'return function run() {',
    '  PKT = RG[1]; if (PKT !== undefined) { P_DV = PKT.dv; P_U8 = PKT.u8; }',
    `  budget = BUDGET; depth = 0; S.lo = STACK_TOP - ${MAX_BPF_STACK};`,
    `  R[0] = f0(0, 0, R[2], R[3], R[4], R[5], R[6], R[7], R[8], R[9], R[10], R[11], 0, 0, 0, 0, 0, 0, 0, 0, STACK_TOP${mode === 'dispatch' && e.reentrant ? ', 0' : ''});`,
    '  R[1] = RET_HI;',
    '};',
  ].join('\n');
  return chunks === undefined ? { source, mode } : { source, mode, chunks };
}

/**
 * The 4-byte struct bpf_sk_lookup fields a dispatcher reads on every lookup, read straight from the
 * lookup being run (env.skLookup), as prog/sk-lookup-ctx.ts reads them: addresses in network order
 * (byte-swapped for the little-endian load), 0 for the other family; local_port host order. The
 * rest (sk, IPv6 words, narrow loads) go through the context loader.
 */
function skLookupField(off: number, size: number, d: number): string | undefined {
  if (size !== 4) return undefined;
  const l = `r${d}l`, h = `r${d}h`;
  const swapped = (field: string): string =>
    `{ const c = env.skLookup, v = c.family === 2 ? c.${field} : 0; ${l} = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); ${h} = 0; }`;
  switch (off) {
    case BPF_SK_LOOKUP.family: return `${l} = env.skLookup.family | 0; ${h} = 0;`;
    case BPF_SK_LOOKUP.protocol: return `${l} = env.skLookup.protocol | 0; ${h} = 0;`;
    case BPF_SK_LOOKUP.local_port: return `${l} = env.skLookup.dport | 0; ${h} = 0;`;
    case BPF_SK_LOOKUP.ingress_ifindex: return `${l} = env.skLookup.ingress_ifindex | 0; ${h} = 0;`;
    case BPF_SK_LOOKUP.remote_ip4: return swapped('v4_saddr');
    case BPF_SK_LOOKUP.local_ip4: return swapped('v4_daddr');
    default: return undefined;
  }
}

/**
 * struct __sk_buff's packet pointers and the u32 fields every classifier reads, straight from the
 * skb being run (env.skb), as prog/skb-ctx.ts reads them; the rest through the context loader.
 */
function skbField(off: number, size: number, d: number): string | undefined {
  if (size !== 4) return undefined;
  const l = `r${d}l`, h = `r${d}h`;
  switch (off) {
    case SK_BUFF.data: return `${l} = env.skb.data; ${h} = PKT_HI;`;
    case SK_BUFF.data_end: return `{ const k = env.skb; ${l} = k.data + k.len; ${h} = PKT_HI; }`;
    case SK_BUFF.data_meta: return `{ const k = env.skb; ${l} = k.data - k.meta_len; ${h} = PKT_HI; }`;
    case SK_BUFF.len: return `${l} = env.skb.len | 0; ${h} = 0;`;
    case SK_BUFF.mark: return `${l} = env.skb.mark | 0; ${h} = 0;`;
    case SK_BUFF.priority: return `${l} = env.skb.priority | 0; ${h} = 0;`;
    default: return undefined;
  }
}
