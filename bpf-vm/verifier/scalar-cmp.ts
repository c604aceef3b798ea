// Conditional jumps over scalars: what each side of a comparison learns on the taken and the
// fall-through edge (the kernel's reg_set_min_max idea), and from that whether an edge is possible
// at all (is_branch_taken): an edge whose refinement admits no value is never taken.
import { fromVals, val32, val64, type Scalar, type Val } from './scalar.ts';
import { tnumIntersect, tnumIsConst, tnumOverlaps } from './tnum.ts';

export type CmpOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'sgt' | 'sge' | 'slt' | 'sle' | 'set';
type Op = CmpOp | 'nset';

const NEGATE: Readonly<Record<Op, Op>> = {
  eq: 'ne', ne: 'eq', gt: 'le', le: 'gt', ge: 'lt', lt: 'ge',
  sgt: 'sle', sle: 'sgt', sge: 'slt', slt: 'sge', set: 'nset', nset: 'set',
};
/** The same condition with its operands exchanged. */
export const SWAP: Readonly<Record<CmpOp, CmpOp>> = {
  eq: 'eq', ne: 'ne', gt: 'lt', lt: 'gt', ge: 'le', le: 'ge', sgt: 'slt', slt: 'sgt', sge: 'sle', sle: 'sge', set: 'set',
};

const maxB = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const minB = (a: bigint, b: bigint): bigint => (a < b ? a : b);

function valid(v: Val): boolean {
  return v.umin <= v.umax && v.smin <= v.smax && (v.t.value & v.t.mask) === 0n;
}

function isPow2(x: bigint): boolean {
  return x !== 0n && (x & (x - 1n)) === 0n;
}

/** Both sides after learning `a op b` at width w; undefined if no pair of values satisfies it. */
export function refineVal(op: Op, a0: Val, b0: Val, w: 32 | 64): [Val, Val] | undefined {
  const a = { ...a0 }, b = { ...b0 };
  const top = (1n << BigInt(w)) - 1n;
  switch (op) {
    case 'eq': {
      if (!tnumOverlaps(a.t, b.t)) return undefined;
      const c: Val = {
        umin: maxB(a.umin, b.umin), umax: minB(a.umax, b.umax),
        smin: maxB(a.smin, b.smin), smax: minB(a.smax, b.smax), t: tnumIntersect(a.t, b.t),
      };
      return valid(c) ? [c, { ...c }] : undefined;
    }
    case 'ne': {
      const trim = (x: Val, k: bigint): void => {
        const sk = BigInt.asIntN(w, k);
        if (x.umin === k) x.umin++;
        if (x.umax === k) x.umax--;
        if (x.smin === sk) x.smin++;
        if (x.smax === sk) x.smax--;
      };
      if (tnumIsConst(b.t)) trim(a, b.t.value);
      if (tnumIsConst(a0.t)) trim(b, a0.t.value);
      break;
    }
    case 'gt': a.umin = maxB(a.umin, b0.umin + 1n); b.umax = minB(b.umax, a0.umax - 1n); break;
    case 'ge': a.umin = maxB(a.umin, b0.umin); b.umax = minB(b.umax, a0.umax); break;
    case 'lt': a.umax = minB(a.umax, b0.umax - 1n); b.umin = maxB(b.umin, a0.umin + 1n); break;
    case 'le': a.umax = minB(a.umax, b0.umax); b.umin = maxB(b.umin, a0.umin); break;
    case 'sgt': a.smin = maxB(a.smin, b0.smin + 1n); b.smax = minB(b.smax, a0.smax - 1n); break;
    case 'sge': a.smin = maxB(a.smin, b0.smin); b.smax = minB(b.smax, a0.smax); break;
    case 'slt': a.smax = minB(a.smax, b0.smax - 1n); b.smin = maxB(b.smin, a0.smin + 1n); break;
    case 'sle': a.smax = minB(a.smax, b0.smax); b.smin = maxB(b.smin, a0.smin); break;
    case 'set': {
      if (((a.t.value | a.t.mask) & (b.t.value | b.t.mask)) === 0n) return undefined;
      a.umin = maxB(a.umin, 1n);
      b.umin = maxB(b.umin, 1n);
      if (tnumIsConst(b0.t) && isPow2(b0.t.value)) a.t = { value: a.t.value | b0.t.value, mask: a.t.mask & ~b0.t.value };
      if (tnumIsConst(a0.t) && isPow2(a0.t.value)) b.t = { value: b.t.value | a0.t.value, mask: b.t.mask & ~a0.t.value };
      break;
    }
    case 'nset': {
      if ((a.t.value & b.t.value) !== 0n) return undefined;
      if (tnumIsConst(b0.t)) a.t = { value: a.t.value & ~b0.t.value & top, mask: a.t.mask & ~b0.t.value & top };
      if (tnumIsConst(a0.t)) b.t = { value: b.t.value & ~a0.t.value & top, mask: b.t.mask & ~a0.t.value & top };
      break;
    }
  }
  return valid(a) && valid(b) ? [a, b] : undefined;
}

/**
 * What `a op b` (taken) or its negation (not taken) teaches about both operands; is32 compares the
 * low halves (JMP32). Undefined when the edge is impossible.
 */
export function refineScalars(op: CmpOp, a: Scalar, b: Scalar, is32: boolean, taken: boolean): [Scalar, Scalar] | undefined {
  const o: Op = taken ? op : NEGATE[op];
  if (is32) {
    const r = refineVal(o, val32(a), val32(b), 32);
    if (r === undefined) return undefined;
    const na = fromVals(val64(a), r[0]), nb = fromVals(val64(b), r[1]);
    return na && nb ? [na, nb] : undefined;
  }
  const r = refineVal(o, val64(a), val64(b), 64);
  if (r === undefined) return undefined;
  const na = fromVals(r[0], val32(a)), nb = fromVals(r[1], val32(b));
  return na && nb ? [na, nb] : undefined;
}

export type BranchOutcome = 'always' | 'never' | 'unknown';

/** Whether the jump is decided by what is known of both operands. */
export function branchOutcome(op: CmpOp, a: Scalar, b: Scalar, is32: boolean): BranchOutcome {
  const t = refineScalars(op, a, b, is32, true) !== undefined;
  const f = refineScalars(op, a, b, is32, false) !== undefined;
  if (t && !f) return 'always';
  if (!t && f) return 'never';
  return 'unknown';
}
