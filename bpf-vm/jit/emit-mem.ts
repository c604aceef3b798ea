// JavaScript for loads, stores and atomics. Where the verifier proved which region a base register
// points into, the access indexes that region's views directly with no bounds check; otherwise it
// resolves the region from the pointer's tag and checks bounds exactly as the interpreter does.
import type { InsnFacts } from '../verifier/api.ts';

/** Names of the generated code's views for a region the verifier identified. */
export interface RegionViews {
  dv: string;
  u8: string;
  i32: string;
  /** The Region object itself (for atomics' fallback and faults). */
  obj: string;
}

export type Access = 'read' | 'write' | 'atomic';

export interface MemContext {
  pc: number;
  facts: InsnFacts | undefined;
  /** Views for a proven region kind (undefined: no proof, check at run time). */
  viewsFor(f: InsnFacts): RegionViews | undefined;
  /** Generated statement for an XDP context field load into rD, or undefined for other types. */
  ctxField(off: number, size: number, d: number): string | undefined;
  /** The context is a __sk_buff, whose writable fields a store reaches through F.skbCtxStore. */
  skbCtx: boolean;
}

const GET: Record<number, string> = { 1: 'getUint8', 2: 'getUint16', 4: 'getInt32' };
const GET_SX: Record<number, string> = { 1: 'getInt8', 2: 'getInt16', 4: 'getInt32' };
const SET: Record<number, string> = { 1: 'setInt8', 2: 'setInt16', 4: 'setInt32' };

function loadInto(dv: string, u8: string, addr: string, size: number, d: number, signExtend: boolean): string {
  const l = `r${d}l`, h = `r${d}h`;
  if (size === 8) return `${l} = ${dv}.getInt32(${addr}, true); ${h} = ${dv}.getInt32(${addr} + 4, true);`;
  if (signExtend) return `${l} = ${dv}.${GET_SX[size]}(${addr}, true); ${h} = ${l} >> 31;`;
  if (size === 1) return `${l} = ${u8}[${addr}]; ${h} = 0;`;
  return `${l} = ${dv}.${GET[size]}(${addr}, true); ${h} = 0;`;
}

function storeFrom(dv: string, u8: string, addr: string, size: number, vl: string, vh: string): string {
  if (size === 8) return `${dv}.setInt32(${addr}, ${vl}, true); ${dv}.setInt32(${addr} + 4, ${vh}, true);`;
  if (size === 1) return `${u8}[${addr}] = ${vl};`;
  return `${dv}.${SET[size]}(${addr}, ${vl}, true);`;
}

/** The checked prologue: resolves `g` and `a` for base register b + off, faulting like the interpreter. */
function checked(ctx: MemContext, b: number, off: number, size: number, what: Access): string {
  const writable = what === 'read' ? '' : ' || !g.writable';
  return `const h = r${b}h, a = (r${b}l >>> 0) + ${off}, g = RG[h & 0xffff]; ` +
    `if (g === undefined || (h >>> 16) !== 0xffff${writable} || a < g.lo || a + ${size} > g.hi) ` +
    `throw F.memFault(${ctx.pc}, ${b}, ${off}, r${b}l, r${b}h, ${size}, '${what}', g);`;
}

export function emitLoad(ctx: MemContext, d: number, b: number, off: number, size: number, signExtend: boolean): string {
  const f = ctx.facts;
  if (f?.mem?.kind === 'ctx') {
    const field = ctx.ctxField(off, size, d);
    if (field !== undefined) return field;
  }
  if (f?.mem?.kind === 'btf') {
    // BPF_PROBE_MEM: a BTF view's bytes are a plain region; a NULL or emptied base reads 0.
    return `{ const h = r${b}h, a = (r${b}l >>> 0) + ${off}, g = RG[h & 0xffff]; ` +
      `if (g === undefined || (h >>> 16) !== 0xffff || a < g.lo || a + ${size} > g.hi) { r${d}l = 0; r${d}h = 0; } ` +
      `else { ${loadInto('g.dv', 'g.u8', 'a', size, d, signExtend)} } }`;
  }
  const views = f ? ctx.viewsFor(f) : undefined;
  if (views) return loadInto(views.dv, views.u8, `(r${b}l + ${off})`, size, d, signExtend);
  // Unproven: a context pointer goes to the program type's loader, anything else is checked.
  // __sk_buff fields load sign-extended too (the kernel's rewrite adds a movsx); other contexts'
  // sign-extending loads keep the checked path, which faults on a context pointer.
  const sx = 32 - 8 * size;
  const ctxValue = !signExtend ? `r${d}l = R[${2 * d}]; r${d}h = R[${2 * d + 1}];`
    : `r${d}l = ${sx === 0 ? `R[${2 * d}]` : `(R[${2 * d}] << ${sx}) >> ${sx}`}; r${d}h = r${d}l >> 31;`;
  const ctxPath = signExtend && !ctx.skbCtx ? '' :
    `if (r${b}h === CTX_HI) { const a = (r${b}l >>> 0) + ${off}; if (!env.ctxLoad(env, a, ${size}, ${2 * d})) throw F.ctxFault(${ctx.pc}, a, ${size}); ${ctxValue} } else `;
  return `${ctxPath}{ ${checked(ctx, b, off, size, 'read')} ${loadInto('g.dv', 'g.u8', 'a', size, d, signExtend)} }`;
}

export function emitStore(ctx: MemContext, b: number, off: number, size: number, vl: string, vh: string): string {
  const views = ctx.facts ? ctx.viewsFor(ctx.facts) : undefined;
  if (views) return storeFrom(views.dv, views.u8, `(r${b}l + ${off})`, size, vl, vh);
  // A __sk_buff field store (mark, cb, tc_classid, ...): the field's rewrite, at run time. Other
  // program types have no writable context, and their stores keep the plain checked path.
  const store = `{ const a = (r${b}l >>> 0) + ${off}; if (!F.skbCtxStore(env, a, ${size}, ${vl}, ${vh})) throw F.ctxFault(${ctx.pc}, a, ${size}); }`;
  if (ctx.skbCtx && ctx.facts?.mem?.kind === 'ctx') return store;
  const ctxPath = ctx.skbCtx ? `if (r${b}h === CTX_HI) ${store} else ` : '';
  return `${ctxPath}{ ${checked(ctx, b, off, size, 'write')} ${storeFrom('g.dv', 'g.u8', 'a', size, vl, vh)} }`;
}

/**
 * Atomics. The frequent case, a 64-bit add without fetch (a counter), calls the low-word CAS fast
 * path directly; the others spill the registers they touch and call the interpreter's routines.
 */
export function emitAtomic(ctx: MemContext, b: number, s: number, off: number, size: 4 | 8, op: number): string {
  const views = ctx.facts ? ctx.viewsFor(ctx.facts) : undefined;
  const prologue = views
    ? `const a = (r${b}l + ${off}) >>> 0, g = ${views.obj};`
    : checked(ctx, b, off, size, 'atomic');
  const align = `if ((a & ${size - 1}) !== 0 || g.i32.length === 0) throw F.misalignedAtomicFault(${ctx.pc}, ${size}, g, a);`;
  if (size === 8 && op === 0x00) {
    return `{ ${prologue} ${align} if (!A.addLow32(g.i32, a >>> 2, r${s}l, r${s}h)) { R[${2 * s}] = r${s}l; R[${2 * s + 1}] = r${s}h; A.atomic64(R, g, a, ${2 * s}, 0); } }`;
  }
  const fn = size === 4 ? 'A.atomic32' : 'A.atomic64';
  return `{ ${prologue} ${align} R[0] = r0l; R[1] = r0h; R[${2 * s}] = r${s}l; R[${2 * s + 1}] = r${s}h; ` +
    `${fn}(R, g, a, ${2 * s}, ${op}); r0l = R[0]; r0h = R[1]; r${s}l = R[${2 * s}]; r${s}h = R[${2 * s + 1}]; }`;
}
