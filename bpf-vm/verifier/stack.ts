// One frame's 512-byte stack as the verifier sees it: a type per byte (never written, unknown
// scalar bytes, known zero bytes, part of a spilled register) and, per 8-byte slot, the register
// spilled there. Stack accesses are aligned to their size, so a fixed-offset access stays in one slot.
import { MAX_BPF_STACK } from '../isa/opcodes.ts';
import { isConst, scalarConst, signExtend, truncate, unknownOfSize } from './scalar.ts';
import { isPointer, scalarReg, type Reg } from './reg-state.ts';

export const SLOT_INVALID = 0;
export const SLOT_MISC = 1;
export const SLOT_ZERO = 2;
export const SLOT_SPILL = 3;

export const SLOTS = MAX_BPF_STACK / 8;

/** A register saved in bytes [start, start + size) of its slot (start 0 = the slot's lowest address). */
export interface Spill {
  readonly reg: Reg;
  readonly start: number;
  readonly size: number;
}

export type StackRead =
  | { ok: true; reg: Reg }
  | { ok: false; msg: string };

/** Byte index of frame offset `off` (-512..-1). */
export const byteIndex = (off: number): number => MAX_BPF_STACK + off;

export class Stack {
  readonly types: Uint8Array;
  readonly spills: (Spill | undefined)[];

  constructor(types?: Uint8Array, spills?: (Spill | undefined)[]) {
    this.types = types ?? new Uint8Array(MAX_BPF_STACK);
    this.spills = spills ?? new Array<Spill | undefined>(SLOTS).fill(undefined);
  }

  clone(): Stack {
    return new Stack(this.types.slice(), this.spills.slice());
  }

  /** Forgets spills overlapping bytes [b, e): their remaining bytes become unknown scalar bytes. */
  private scrub(b: number, e: number): void {
    for (let slot = b >> 3; slot <= (e - 1) >> 3; slot++) {
      const sp = this.spills[slot];
      if (sp === undefined) continue;
      const s0 = slot * 8 + sp.start, s1 = s0 + sp.size;
      if (s1 <= b || s0 >= e) continue;
      for (let i = s0; i < s1; i++) if (this.types[i] === SLOT_SPILL) this.types[i] = SLOT_MISC;
      this.spills[slot] = undefined;
    }
  }

  /** A store of `size` bytes at fixed offset `off`: `value` is spilled when `spill`, else bytes are zero or misc. */
  write(off: number, size: number, value: Reg | undefined, spill: boolean): void {
    const b = byteIndex(off), e = b + size;
    this.scrub(b, e);
    // A scalar is spilled only at the start of a slot (the kernel's `!(off % BPF_REG_SIZE)`): a store
    // at fp-4 is data, zero or unknown bytes, whatever register it came from.
    if (value !== undefined && spill && ((b & 7) === 0 || isPointer(value))) {
      const slot = b >> 3;
      // One spill per slot: a narrow spill next to another replaces it (its bytes become data).
      const prev = this.spills[slot];
      if (prev !== undefined) this.scrub(slot * 8 + prev.start, slot * 8 + prev.start + prev.size);
      // A narrow spill of a value that fits keeps the register (and its link to copies) as it is;
      // one that does not is kept whole but unlinked (the kernel's "break the relation on a narrowing
      // spill"; a fill truncates it).
      const fits = size === 8 || value.s.umax < 1n << BigInt(8 * size);
      const stored = fits || isPointer(value) ? value : scalarReg(value.s);
      this.spills[slot] = { reg: stored, start: b & 7, size };
      this.types.fill(SLOT_SPILL, b, e);
      return;
    }
    // Data written into a slot holding a spill destroys the spill, and every byte of the slot written
    // so far becomes unknown data, zero bytes included (check_stack_write_fixed_off's scrub of a
    // "special" slot): `*(u32 *)(fp-8) = 7; *(u8 *)(fp-4) = 0` leaves fp-8=mmm0mmmm.
    this.scrubSlot(b >> 3);
    const zero = value !== undefined && value.type === 'scalar' && isConst(value.s) && (value.s.t.value & mask(size)) === 0n;
    this.types.fill(zero ? SLOT_ZERO : SLOT_MISC, b, e);
  }

  /** Drops the slot's spill, if any: its written bytes (spilled, zero or misc) become misc. */
  private scrubSlot(slot: number): void {
    if (this.spills[slot] === undefined) return;
    this.spills[slot] = undefined;
    for (let i = slot * 8; i < slot * 8 + 8; i++) if (this.types[i] !== SLOT_INVALID) this.types[i] = SLOT_MISC;
  }

  /** Marks bytes [b, e) (byte indices) as unknown scalar data, e.g. written by a helper or a variable-offset store. */
  markMisc(b: number, e: number, keepZero = false): void {
    // A helper's write is the kernel's byte-by-byte write of unknown data: each slot it touches loses its spill.
    for (let slot = b >> 3; slot <= (e - 1) >> 3; slot++) this.scrubSlot(slot);
    for (let i = b; i < e; i++) {
      if (keepZero && this.types[i] === SLOT_ZERO) continue;
      this.types[i] = SLOT_MISC;
    }
  }

  /** First never-written byte index in [b, e), or -1. */
  firstInvalid(b: number, e: number): number {
    for (let i = b; i < e; i++) if (this.types[i] === SLOT_INVALID) return i;
    return -1;
  }

  allZero(b: number, e: number): boolean {
    for (let i = b; i < e; i++) if (this.types[i] !== SLOT_ZERO) return false;
    return true;
  }

  /** The spill whose bytes overlap [b, e) and holds a pointer, if any. */
  pointerSpillIn(b: number, e: number): Spill | undefined {
    for (let slot = b >> 3; slot <= (e - 1) >> 3; slot++) {
      const sp = this.spills[slot];
      if (sp === undefined || !isPointer(sp.reg)) continue;
      const s0 = slot * 8 + sp.start;
      if (s0 < e && s0 + sp.size > b) return sp;
    }
    return undefined;
  }

  /**
   * A load of `size` bytes at fixed offset `off` (within one slot). `allowUninit` reads never-written
   * bytes as unknown data (the kernel's behaviour for privileged loaders).
   */
  read(off: number, size: number, signed: boolean, allowUninit: boolean): StackRead {
    const b = byteIndex(off), e = b + size;
    const bad = this.firstInvalid(b, e);
    if (bad >= 0 && !allowUninit) return { ok: false, msg: `invalid read from stack off ${off}+${bad - b} size ${size}` };
    const slot = b >> 3;
    const sp = this.spills[slot];
    const s0 = sp === undefined ? 0 : slot * 8 + sp.start;
    if (sp !== undefined && s0 < e && s0 + sp.size > b) {
      if (isPointer(sp.reg)) {
        if (s0 !== b || sp.size !== size || size !== 8 || signed) return { ok: false, msg: 'invalid size of register fill' };
        return { ok: true, reg: sp.reg };
      }
      if (b >= s0 && e <= s0 + sp.size && sp.reg.type === 'scalar') {
        // A fill from the start of the spill of a value that fits is the same value: it keeps the
        // link (the kernel breaks it only on a narrowing fill).
        if (b === s0 && !signed && (size === 8 || sp.reg.s.umax < 1n << BigInt(8 * size))) return { ok: true, reg: sp.reg };
        // A fill elsewhere than at the spill's start is not a fill (bpf_stack_narrow_access_ok): the
        // kernel reads zero from a spilled zero, unknown bytes from anything else.
        if (b !== s0) {
          if (isConst(sp.reg.s) && sp.reg.s.t.value === 0n) return { ok: true, reg: scalarReg(scalarConst(0n)) };
          const u = unknownOfSize(size);
          return { ok: true, reg: scalarReg(signed && size < 8 ? signExtend(u, (size * 8) as 8 | 16 | 32) : u) };
        }
        const v = truncate(sp.reg.s, size);
        return { ok: true, reg: scalarReg(signed ? signExtend(v, (size * 8) as 8 | 16 | 32) : v) };
      }
    }
    if (this.allZero(b, e)) return { ok: true, reg: scalarReg(scalarConst(0n)) };
    const u = unknownOfSize(size);
    return { ok: true, reg: scalarReg(signed && size < 8 ? signExtend(u, (size * 8) as 8 | 16 | 32) : u) };
  }

  /** Every register spilled in this stack (for bulk updates: null checks, packet ranges). */
  *spilledRegs(): IterableIterator<[number, Spill]> {
    for (let i = 0; i < SLOTS; i++) {
      const sp = this.spills[i];
      if (sp !== undefined) yield [i, sp];
    }
  }

  replaceSpill(slot: number, reg: Reg): void {
    const sp = this.spills[slot];
    if (sp !== undefined) this.spills[slot] = { ...sp, reg };
  }
}

function mask(size: number): bigint {
  return size >= 8 ? (1n << 64n) - 1n : (1n << BigInt(size * 8)) - 1n;
}
