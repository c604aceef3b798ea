// Which scalar values can influence a verification decision (the kernel's precision tracking,
// re-derived as a static over-approximation). The kernel marks a scalar "precise" when its value
// was used where it matters (pointer arithmetic, memory bounds, helper sizes, branch outcomes)
// and compares only precise scalars when pruning. Here a backward dataflow computes, per
// instruction, the registers and stack slots whose values may flow into such a use before being
// overwritten; the others may differ freely between a recorded state and a new one.
//
// Sinks: base registers of loads/stores/atomics, both operands of add/sub when either may hold a
// pointer, both operands of conditional jumps, helper arguments other than ARG_ANYTHING (and the
// stack bytes behind a map_lookup_elem key, whose constant value can make the result non-NULL),
// bpf-to-bpf call arguments (and the caller's whole stack), a subprogram's return value.
// Values flow through moves, ALU operations and stack spills/fills (tracked per slot for stack
// pointers with a known frame offset, conservatively for the rest).
import { ARG, RET } from '../helpers/proto.ts';
import type { HelperProto } from '../helpers/proto.ts';
import { BPF_FUNC } from '../helpers/ids.ts';
import type { Insn } from '../isa/insn.ts';
import { OPCODE_TABLE } from '../isa/legality.ts';
import { BPF_ALU_OP, BPF_ATOMIC_OP, BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD, bpfOp, bpfSize, bpfSrc, sizeBytes } from '../isa/opcodes.ts';
import { isLocalCall, jumpTarget, type Cfg } from './cfg.ts';
import { kfuncArgCount, kfuncReturnsPointer } from './kfunc-call.ts';

const isKfunc = (ins: Insn): boolean => ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL;

/** Per-register static facts: may it hold a pointer, and where on the stack may it point. */
interface Abs {
  ptr: boolean;
  /**
   * 'no': never a stack pointer; a number: this frame's fp + k; 'own': possibly a pointer into this
   * function's own frame, never into another's; 'any': possibly a pointer into any stack.
   */
  stack: 'no' | 'own' | 'any' | number;
}
const SCALAR: Abs = { ptr: false, stack: 'no' };
const ANY_PTR: Abs = { ptr: true, stack: 'any' };

export interface Precision {
  /** Registers (bit i = ri) whose value may matter, per instruction. */
  readonly regs: Uint16Array;
  /** Stack slots of the current frame (bit i = slot i, slot 63 = fp-8) whose value may matter. */
  readonly slots: bigint[];
}

const ALL_SLOTS = (1n << 64n) - 1n;
/** Where a value derived from both (a join, or pointer arithmetic) may point. */
const mixStack = (a: Abs['stack'], b: Abs['stack']): Abs['stack'] =>
  a === 'any' || b === 'any' ? 'any' : a === 'no' && b === 'no' ? 'no' : 'own';
const joinAbs = (a: Abs, b: Abs): Abs => ({ ptr: a.ptr || b.ptr, stack: a.stack === b.stack ? a.stack : mixStack(a.stack, b.stack) });
const sameAbs = (a: Abs, b: Abs): boolean => a.ptr === b.ptr && a.stack === b.stack;

/** Slots covering frame bytes [off, off + size). */
function slotMask(off: number, size: number): bigint {
  let m = 0n;
  for (let o = off; o < off + size; o++) {
    const slot = (512 + o) >> 3;
    if (slot >= 0 && slot < 64) m |= 1n << BigInt(slot);
  }
  return m;
}

function successors(insns: readonly Insn[], pc: number): number[] {
  const ins = insns[pc]!;
  const k = OPCODE_TABLE.get(ins.code)?.kind;
  if (k === 'exit') return [];
  if (k === 'ja' || k === 'gotol') return [jumpTarget(ins, pc)];
  const next = k === 'lddw' ? pc + 2 : pc + 1;
  const out = next < insns.length ? [next] : [];
  if (k === 'jcond') out.push(jumpTarget(ins, pc));
  return out;
}

/** Entries 0..10 of a forward state are r0..r10; entry FRAME_SLOT + i is slot i of the function's own frame. */
const FRAME_SLOT = 11;
const STATE_LEN = FRAME_SLOT + 64;

/**
 * The frame slot an access at r + off of `size` bytes covers whole, when r is a known offset from this
 * frame's fp and the access is an aligned 8 bytes: a pointer can be spilled or filled only so.
 */
function wholeSlot(base: Abs, off: number, size: number): number {
  if (typeof base.stack !== 'number' || size !== 8) return -1;
  const o = base.stack + off;
  return o >= -512 && o < 0 && (o & 7) === 0 ? (512 + o) >> 3 : -1;
}

/**
 * Forward: what each register, and each slot of the function's own stack, may hold before each
 * instruction. A value loaded from a slot of the frame is what was spilled there, so a scalar kept
 * on the stack is no possible pointer (a helper's or a narrow store's bytes are data: keeping the
 * slot's earlier contents over-approximates them). Unless an 8-byte store of a possible pointer goes
 * through a pointer that may reach some stack at an unknown offset (a caller's through an argument,
 * a callback's context): then every 8-byte stack load may be a pointer.
 */
function forward(insns: readonly Insn[], cfg: Cfg, helper: (id: number) => HelperProto | undefined): (Abs[] | undefined)[] {
  const n = insns.length;
  let escapes = false;
  let blind = false;
  for (;;) {
    const at: (Abs[] | undefined)[] = new Array<Abs[] | undefined>(n).fill(undefined);
    let escaped = false;
    let blinded = false;
    const work: number[] = [];
    const merge = (pc: number, regs: Abs[]): void => {
      const cur = at[pc];
      if (cur === undefined) { at[pc] = regs; work.push(pc); return; }
      let changed = false;
      const j = cur.map((a, i) => { const x = joinAbs(a, regs[i]!); if (!sameAbs(x, a)) changed = true; return x; });
      if (changed) { at[pc] = j; work.push(pc); }
    };
    cfg.subprogs.forEach((sp, i) => {
      const regs = new Array<Abs>(STATE_LEN).fill(SCALAR);
      if (i === 0) regs[1] = { ptr: true, stack: 'no' };
      else for (let r = 1; r <= 5; r++) regs[r] = ANY_PTR;
      regs[10] = { ptr: true, stack: 0 };
      merge(sp.start, regs);
    });
    // Memory other than the stack gives back no stack pointer (a context load is a packet or socket
    // pointer, a map value load a scalar); the stack only one spilled there whole, in 8 bytes.
    const loaded: Abs = { ptr: true, stack: escapes ? 'any' : 'no' };
    const heapLoaded: Abs = { ptr: true, stack: 'no' };
    while (work.length > 0) {
      const pc = work.pop()!;
      const r = at[pc]!.slice();
      const ins = insns[pc]!;
      const rule = OPCODE_TABLE.get(ins.code);
      if (rule === undefined) continue;
      const x = bpfSrc(ins.code) !== 0;
      switch (rule.kind) {
        case 'alu': {
          const op = bpfOp(ins.code);
          const d = r[ins.dst]!, s = x ? r[ins.src]! : SCALAR;
          if (!rule.wide) r[ins.dst] = SCALAR;
          else if (op === BPF_ALU_OP.BPF_MOV) r[ins.dst] = x && ins.off === 0 ? s : SCALAR;
          else if (op === BPF_ALU_OP.BPF_ADD || op === BPF_ALU_OP.BPF_SUB) {
            const delta = op === BPF_ALU_OP.BPF_ADD ? ins.imm : -ins.imm;
            const stack: Abs['stack'] = typeof d.stack === 'number' && !x ? d.stack + delta
              : mixStack(d.stack, op === BPF_ALU_OP.BPF_ADD ? s.stack : 'no');
            r[ins.dst] = { ptr: d.ptr || s.ptr, stack };
          } else r[ins.dst] = SCALAR;
          break;
        }
        case 'neg': case 'end': case 'bswap': case 'ldxsx': r[ins.dst] = SCALAR; break;
        case 'ldx': {
          const base = r[ins.src]!;
          const size = sizeBytes(bpfSize(ins.code));
          const slot = blind ? -1 : wholeSlot(base, ins.off, size);
          // A narrow load from the stack cannot fill a pointer (invalid size of register fill).
          r[ins.dst] = slot >= 0 ? r[FRAME_SLOT + slot]! : typeof base.stack === 'number' && !blind ? SCALAR
            : !base.ptr ? SCALAR : base.stack === 'no' || size < 8 ? heapLoaded : loaded;
          break;
        }
        case 'st': case 'stx': {
          const base = r[ins.dst]!;
          const size = sizeBytes(bpfSize(ins.code));
          const v = rule.kind === 'st' ? SCALAR : r[ins.src]!;
          if (v.stack !== 'no' && size === 8) escaped = true;
          if (v.ptr && size === 8 && base.stack === 'any') blinded = true;
          storeSlots(r, base, ins.off, size, v);
          break;
        }
        case 'atomic': {
          const base = r[ins.dst]!;
          const size = rule.wide ? 8 : 4;
          const v = r[ins.src]!;
          if (v.stack !== 'no' && size === 8) escaped = true;
          if (v.ptr && size === 8 && base.stack === 'any') blinded = true;
          // What the slot held before is what a fetch returns; the slot may then hold either.
          const slot = blind ? -1 : wholeSlot(base, ins.off, size);
          const old = slot >= 0 ? r[FRAME_SLOT + slot]! : loaded;
          storeSlots(r, base, ins.off, size, joinAbs(old, v));
          if ((ins.imm & BPF_ATOMIC_OP.BPF_FETCH) !== 0) r[ins.imm === BPF_ATOMIC_OP.BPF_CMPXCHG ? 0 : ins.src] = old;
          break;
        }
        case 'lddw': r[ins.dst] = ins.src === BPF_PSEUDO_LD.NONE ? SCALAR : { ptr: true, stack: 'no' }; break;
        case 'call': {
          for (let i = 1; i <= 5; i++) r[i] = SCALAR;
          if (isKfunc(ins)) { r[0] = { ptr: kfuncReturnsPointer(ins.imm), stack: 'no' }; break; }
          const h = isLocalCall(ins) ? undefined : helper(ins.imm);
          r[0] = isLocalCall(ins) ? ANY_PTR : { ptr: h !== undefined && h.ret !== RET.RET_INTEGER && h.ret !== RET.RET_VOID, stack: 'no' };
          break;
        }
        case 'ldabs': case 'ldind': for (let i = 0; i <= 5; i++) r[i] = SCALAR; break;
        default: break;
      }
      for (const t of successors(insns, pc)) merge(t, r);
    }
    if (escaped === escapes && blinded === blind) return at;
    escapes = escaped;
    blind = blinded;
  }
}

/** A store of `v` at base + off: a whole slot takes it, other slots it may touch may hold it too. */
function storeSlots(r: Abs[], base: Abs, off: number, size: number, v: Abs): void {
  if (typeof base.stack !== 'number') {
    if (base.stack !== 'no') for (let i = 0; i < 64; i++) r[FRAME_SLOT + i] = joinAbs(r[FRAME_SLOT + i]!, v);
    return;
  }
  const slot = wholeSlot(base, off, size);
  if (slot >= 0) { r[FRAME_SLOT + slot] = v; return; }
  for (let o = base.stack + off; o < base.stack + off + size; o++) {
    if (o >= -512 && o < 0) { const i = FRAME_SLOT + ((512 + o) >> 3); r[i] = joinAbs(r[i]!, v); }
  }
}

const bit = (r: number): number => 1 << r;

export function computePrecision(insns: readonly Insn[], cfg: Cfg, helper: (id: number) => HelperProto | undefined): Precision {
  const n = insns.length;
  const fwd = forward(insns, cfg, helper);
  const regs = new Uint16Array(n);
  const slots = new Array<bigint>(n).fill(0n);
  const succ = Array.from({ length: n }, (_, pc) => (fwd[pc] === undefined || cfg.second[pc] ? [] : successors(insns, pc)));
  const isMainExit = (pc: number): boolean => cfg.subprogOf[pc] === 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      const abs = fwd[pc];
      if (abs === undefined) continue;
      let outR = 0, outS = 0n;
      for (const t of succ[pc]!) { outR |= regs[t]!; outS |= slots[t]!; }
      const [inR, inS] = transfer(insns[pc]!, abs, outR, outS, helper, isMainExit(pc), cfg.cbCall[pc] === 1);
      if (inR !== regs[pc] || inS !== slots[pc]) { regs[pc] = inR; slots[pc] = inS; changed = true; }
    }
  }
  return { regs, slots };
}

/** What must be precise before `ins`, given what must be precise after it. */
function transfer(ins: Insn, abs: Abs[], outR: number, outS: bigint, helper: (id: number) => HelperProto | undefined, mainExit: boolean, callback: boolean): [number, bigint] {
  const rule = OPCODE_TABLE.get(ins.code)!;
  const d = ins.dst, s = ins.src;
  const x = bpfSrc(ins.code) !== 0;
  const memSlots = (base: Abs, off: number, size: number): bigint =>
    typeof base.stack === 'number' ? slotMask(base.stack + off, size) : base.stack === 'no' ? 0n : ALL_SLOTS;
  let r = outR, sl = outS;
  switch (rule.kind) {
    case 'alu': {
      const op = bpfOp(ins.code);
      const need = (r & bit(d)) !== 0;
      r &= ~bit(d);
      if (op === BPF_ALU_OP.BPF_MOV) { if (need && x) r |= bit(s); break; }
      const ptrArith = (op === BPF_ALU_OP.BPF_ADD || op === BPF_ALU_OP.BPF_SUB) && (abs[d]!.ptr || (x && abs[s]!.ptr));
      if (need || ptrArith) { r |= bit(d); if (x) r |= bit(s); }
      break;
    }
    case 'neg': case 'end': case 'bswap': break;
    case 'ja': case 'gotol': break;
    case 'jcond': r |= bit(d) | (x ? bit(s) : 0); break;
    case 'lddw': r &= ~bit(d); break;
    case 'ldx': case 'ldxsx': {
      const need = (r & bit(d)) !== 0;
      r &= ~bit(d);
      r |= bit(s);
      if (need) sl |= memSlots(abs[s]!, ins.off, sizeBytes(bpfSize(ins.code)));
      break;
    }
    case 'st': case 'stx': {
      const size = sizeBytes(bpfSize(ins.code));
      const base = abs[d]!;
      const m = memSlots(base, ins.off, size);
      // Through a pointer that may reach a caller's stack, the value may be read after this
      // function returns: it always matters.
      if (rule.kind === 'stx' && ((m & outS) !== 0n || base.stack === 'any')) r |= bit(s);
      if (typeof base.stack === 'number' && size === 8 && (base.stack + ins.off) % 8 === 0) sl &= ~m;
      r |= bit(d);
      break;
    }
    case 'atomic': {
      const size = rule.wide ? 8 : 4;
      const m = memSlots(abs[d]!, ins.off, size);
      const cmpxchg = ins.imm === BPF_ATOMIC_OP.BPF_CMPXCHG;
      const fetchReg = cmpxchg ? 0 : (ins.imm & BPF_ATOMIC_OP.BPF_FETCH) !== 0 ? s : -1;
      if (fetchReg >= 0 && (r & bit(fetchReg)) !== 0) sl |= m;
      r |= bit(d) | bit(s) | (cmpxchg ? bit(0) : 0);
      break;
    }
    case 'call': {
      r &= ~0b111111;
      if (isLocalCall(ins)) { r |= 0b111110; sl = ALL_SLOTS; break; }
      // A kfunc's arguments all matter (pointers, the size of a memory argument, constants).
      if (isKfunc(ins)) {
        for (let i = 1; i <= kfuncArgCount(ins.imm); i++) r |= bit(i);
        break;
      }
      const h = helper(ins.imm);
      const args = h === undefined ? [] : h.id === BPF_FUNC.trace_printk ? h.args.slice(0, 2) : h.args;
      args.forEach((k, i) => { if (k !== ARG.ARG_ANYTHING && k !== ARG.ARG_DONTCARE) r |= bit(i + 1); });
      // The key lies between its start and the frame's end.
      if (h?.id === BPF_FUNC.map_lookup_elem) {
        const k = abs[2]!.stack;
        sl |= typeof k === 'number' ? slotMask(k, -k) : k !== 'no' ? ALL_SLOTS : 0n;
      }
      // nr_loops bounds the callback's visits (the kernel marks R1 precise); the callback may read the
      // caller's whole stack through its context, as a bpf-to-bpf callee may.
      if (callback) { r |= 0b11110; sl = ALL_SLOTS; }
      break;
    }
    case 'exit': r = mainExit ? 0 : bit(0); sl = 0n; break;
    case 'ldabs': case 'ldind': r = (r & ~0b111111) | bit(6) | (rule.kind === 'ldind' ? bit(s) : 0); break;
  }
  return [r, sl];
}
