// Run-time faults, worded once so that every engine reports the same error for the same program.
import { RuntimeFault } from '../errors.ts';
import { MAX_CALL_FRAMES } from '../isa/opcodes.ts';
import { formatPointer, REGION_ID, regionTag, type Region } from './regions.ts';

const CTX_HI = regionTag(REGION_ID.CTX);

/** A load, store or atomic through register `reg` (holding lo:hi) plus `off` that left its region. */
export function memFault(pc: number, reg: number, off: number, lo: number, hi: number, size: number, what: string, g: Region | undefined): RuntimeFault {
  const at = `r${reg}${off < 0 ? '' : '+'}${off}`;
  if (hi === CTX_HI) {
    const why = what === 'read' ? 'invalid bpf_context access (the context allows 4-byte loads of its fields only)' : 'the context is read-only';
    return new RuntimeFault(pc, `invalid memory access: ${what} of ${size} bytes at ${at}: ${why}`);
  }
  const where = g ? ` (${g.name}${g.writable || what === 'read' ? '' : ', read-only'}, valid ${g.lo}..${g.hi})` : '';
  return new RuntimeFault(pc, `invalid memory access: ${what} of ${size} bytes at ${at} = ${formatPointer(lo, hi)}${where}`);
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
