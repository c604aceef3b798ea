// Conditional jumps: which edges are possible and what each edge teaches. Scalars get refined
// bounds on both sides (and so do their linked copies); a nullable pointer compared with zero
// becomes NULL on one edge and a valid pointer on the other (with every copy sharing its id);
// a packet pointer compared with packet_end proves a range for every pointer sharing its id.
import type { Insn } from '../isa/insn.ts';
import { BPF_CLASS, BPF_JMP_OP, bpfClass, bpfOp, bpfSrc } from '../isa/opcodes.ts';
import { readReg } from './alu.ts';
import type { Env } from './env.ts';
import { invalid } from './env-types.ts';
import {
  isKnownZero, isNonNullPointer, isPointer, mayBeNull, nonNullType, scalarReg, ZERO_SCALAR, type Reg, type RegType,
} from './reg-state.ts';
import { refineScalars, SWAP, type CmpOp } from './scalar-cmp.ts';
import { intersectScalars, isConst, scalarConst, type Scalar } from './scalar.ts';
import { scalarAlu } from './scalar-alu.ts';
import type { VState } from './state.ts';
import { releaseRef } from './refs.ts';

const MAX_PACKET_OFF = 0xffffn;

const CMP: Readonly<Record<number, CmpOp>> = {
  [BPF_JMP_OP.BPF_JEQ]: 'eq', [BPF_JMP_OP.BPF_JNE]: 'ne', [BPF_JMP_OP.BPF_JGT]: 'gt', [BPF_JMP_OP.BPF_JGE]: 'ge',
  [BPF_JMP_OP.BPF_JLT]: 'lt', [BPF_JMP_OP.BPF_JLE]: 'le', [BPF_JMP_OP.BPF_JSGT]: 'sgt', [BPF_JMP_OP.BPF_JSGE]: 'sge',
  [BPF_JMP_OP.BPF_JSLT]: 'slt', [BPF_JMP_OP.BPF_JSLE]: 'sle', [BPF_JMP_OP.BPF_JSET]: 'set',
};

/** The states of the fall-through and the taken edge; undefined for an edge that cannot happen. */
export interface BranchResult {
  fall: VState | undefined;
  taken: VState | undefined;
}

export function checkCondJmp(env: Env, st: VState, ins: Insn): BranchResult {
  const op = CMP[bpfOp(ins.code)];
  if (op === undefined) invalid(`invalid BPF_JMP/JMP32 opcode ${bpfOp(ins.code).toString(16)}`);
  const is32 = bpfClass(ins.code) === BPF_CLASS.BPF_JMP32;
  const srcX = bpfSrc(ins.code) !== 0;
  const a = readReg(env, st, ins.dst);
  const b = srcX ? readReg(env, st, ins.src) : scalarReg(scalarConst(BigInt(ins.imm)));

  if (a.type === 'scalar' && b.type === 'scalar') return scalarBranch(st, ins, op, is32, a, b, srcX);

  if ((op === 'eq' || op === 'ne') && !is32) {
    const [ptr, other] = isPointer(a) ? [a, b] : [b, a];
    if (isKnownZero(other)) {
      if (mayBeNull(ptr.type)) return nullCheck(st, ptr, op);
      // A pointer that cannot be NULL never equals zero.
      if (isNonNullPointer(ptr)) return op === 'eq' ? { fall: st, taken: undefined } : { fall: undefined, taken: st };
    }
  }
  const fall = st, taken = st.clone();
  if (!is32 && isPointer(a) && isPointer(b)) pktCompare(fall, taken, op, a, b);
  return { fall, taken };
}

function scalarBranch(st: VState, ins: Insn, op: CmpOp, is32: boolean, a: Reg, b: Reg, srcX: boolean): BranchResult {
  // An edge whose refinement admits no value cannot be taken (the kernel's is_branch_taken).
  const rt = refineScalars(op, a.s, b.s, is32, true);
  const rf = refineScalars(op, a.s, b.s, is32, false);
  if (rt === undefined) return { fall: rf === undefined ? undefined : st, taken: undefined };
  if (rf === undefined) return { fall: undefined, taken: st };
  const taken = st.clone();
  const apply = (s: VState, r: [Scalar, Scalar]): VState | undefined => {
    if (!setScalar(s, ins.dst, a, r[0])) return undefined;
    if (srcX && !setScalar(s, ins.src, b, r[1])) return undefined;
    return s;
  };
  return { taken: apply(taken, rt), fall: apply(st, rf) };
}

/**
 * Gives register `regno` the refined value, and every scalar linked to it by id the same value
 * shifted by their known difference. False when a linked register cannot hold such a value.
 */
function setScalar(st: VState, regno: number, old: Reg, s: Scalar): boolean {
  if (old.id === 0) {
    st.setReg(regno, { ...old, s });
    return true;
  }
  let ok = true;
  st.mapAllRegs((r) => {
    if (r.type !== 'scalar' || r.id !== old.id) return r;
    const shifted = r.off === old.off ? s : scalarAlu('add', s, scalarConst(BigInt(r.off - old.off)), true);
    const n = intersectScalars(r.s, shifted);
    if (n === undefined) { ok = false; return r; }
    return { ...r, s: n };
  });
  return ok;
}

function nullCheck(st: VState, ptr: Reg, op: CmpOp): BranchResult {
  const other = st.clone();
  // For `==`, the taken edge is the NULL one.
  const [nullSide, validSide] = op === 'eq' ? [other, st] : [st, other];
  markPtrOrNull(nullSide, ptr, true);
  markPtrOrNull(validSide, ptr, false);
  return op === 'eq' ? { fall: validSide, taken: nullSide } : { fall: nullSide, taken: validSide };
}

/** Every copy of a nullable pointer (same id) becomes NULL (a zero scalar) or a valid pointer. */
export function markPtrOrNull(st: VState, ptr: Reg, isNull: boolean): void {
  const id = ptr.id;
  if (id === 0) return;
  st.mapAllRegs((r) => {
    if (r.id !== id || !mayBeNull(r.type)) return r;
    if (isNull) return ZERO_SCALAR;
    return { ...r, type: nonNullType(r.type), id: 0 };
  });
  // A reference that turned out NULL needs no release; a cast's NULL (bpf_tcp_sock) says nothing
  // of the socket whose reference it carries.
  if (isNull && ptr.refId !== 0 && ptr.refId === id) releaseRef(st, ptr.refId, false);
}

/**
 * `P op E` where P points into the packet and E is its end (or P is packet metadata and E the
 * start of packet data): the edge where P <= E (or P < E) proves [base, base + off) (or one byte more).
 */
function pktCompare(fall: VState, taken: VState, op: CmpOp, a: Reg, b: Reg): void {
  let p: Reg, o: CmpOp;
  if (isBoundPair(a, b)) { p = a; o = op; }
  else if (isBoundPair(b, a)) { p = b; o = SWAP[op]; }
  else return;
  switch (o) {
    case 'gt': findGoodPktPointers(fall, p, false); break; // fall: P <= E
    case 'ge': findGoodPktPointers(fall, p, true); break; // fall: P < E
    case 'lt': findGoodPktPointers(taken, p, true); break;
    case 'le': findGoodPktPointers(taken, p, false); break;
    default: break;
  }
}

function isBoundPair(p: Reg, e: Reg): boolean {
  if (p.type === 'pkt' && e.type === 'pkt_end') return true;
  // Metadata is bounded by the start of data: the unmodified data pointer.
  return p.type === 'pkt_meta' && e.type === 'pkt' && e.id === 0 && e.off === 0 && isConst(e.s) && e.s.t.value === 0n;
}

function findGoodPktPointers(st: VState, p: Reg, rightOpen: boolean): void {
  if (p.off < 0 || (p.off === 0 && rightOpen)) return;
  if (p.s.umax > MAX_PACKET_OFF || p.s.umax + BigInt(p.off) > MAX_PACKET_OFF) return;
  const range = rightOpen ? p.off + 1 : p.off;
  const type: RegType = p.type;
  st.mapAllRegs((r) => (r.type === type && r.id === p.id && r.range < range ? { ...r, range } : r));
}
