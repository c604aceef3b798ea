// Run-time faults, worded once so that every engine reports the same error for the same program.
import { RuntimeFault } from '../errors.ts';
import { MAX_CALL_FRAMES } from '../isa/opcodes.ts';
import { formatPointer, REGION_ID, regionTag, type Region } from './regions.ts';

const CTX_HI = regionTag(REGION_ID.CTX);

/** The 64-bit address base + off (off sign-extended, as the ISA adds it), formatted like a pointer. */
function effectiveAddress(lo: number, hi: number, off: number): string {
  const base = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const a = BigInt.asUintN(64, base + BigInt(off));
  return formatPointer(Number(a & 0xffffffffn) | 0, Number(a >> 32n) | 0);
}

/** The region and its bounds, when the pointer had one: what the access would have had to stay in. */
function regionNote(g: Region | undefined, what: string): string {
  return g ? ` (${g.name}${g.writable || what === 'read' ? '' : ', read-only'}, valid ${g.lo}..${g.hi})` : '';
}

/**
 * A load, store or atomic through register `reg` (holding lo:hi) plus `off` that left its region.
 * The address printed is the one accessed, base + off: the register alone would point at a byte
 * the program may well be allowed to touch.
 */
export function memFault(pc: number, reg: number, off: number, lo: number, hi: number, size: number, what: string, g: Region | undefined): RuntimeFault {
  const at = `r${reg}${off < 0 ? '' : '+'}${off}`;
  if (hi === CTX_HI) {
    const why = what === 'read' ? 'invalid bpf_context access (the context allows 4-byte loads of its fields only)' : 'the context is read-only';
    return new RuntimeFault(pc, `invalid memory access: ${what} of ${size} bytes at ${at}: ${why}`);
  }
  return new RuntimeFault(pc, `invalid memory access: ${what} of ${size} bytes at ${at} = ${effectiveAddress(lo, hi, off)}${regionNote(g, what)}`);
}

/**
 * Memory a helper was given (a map key, a value, a buffer) that is not `size` accessible bytes at
 * lo:hi. Raised by ExecEnv.resolveMem for every engine, and by the JIT's inlined ARRAY lookup, so
 * that both engines word it the same.
 */
export function helperMemFault(pc: number, what: string, size: number, lo: number, hi: number, g: Region | undefined): RuntimeFault {
  return new RuntimeFault(pc, `invalid memory access: ${what}: ${size} bytes at ${formatPointer(lo, hi)}${g ? ` (${g.name}, valid ${g.lo}..${g.hi})` : ''}`);
}

/** A helper asked to write memory the program may only read (a read-only map's value). */
export function helperReadOnlyFault(pc: number, what: string, g: Region): RuntimeFault {
  return new RuntimeFault(pc, `invalid memory access: ${what}: ${g.name} is read-only`);
}

export function ctxFault(pc: number, a: number, size: number): RuntimeFault {
  return new RuntimeFault(pc, `invalid memory access: invalid bpf_context access off=${a} size=${size}`);
}

export function misalignedAtomicFault(pc: number, size: number, g: Region, a: number): RuntimeFault {
  return new RuntimeFault(pc, `invalid memory access: misaligned atomic of ${size} bytes at ${g.name}+${a}`);
}

export function budgetFault(pc: number, budget: number): RuntimeFault {
  return new RuntimeFault(pc, `instruction budget of ${budget} exhausted (infinite loop?)`, 'ELIMIT');
}

export function callDepthFault(pc: number): RuntimeFault {
  return new RuntimeFault(pc, `call depth exceeds ${MAX_CALL_FRAMES} frames`, 'ELIMIT');
}
