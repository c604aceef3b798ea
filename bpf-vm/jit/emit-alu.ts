// JavaScript for ALU instructions over int32 locals: rNl is the low half of rN, rNh the high half.
// Immediates are folded at compile time; 64-bit multiply/divide and register shifts call the same
// int64 routines the interpreter uses (`I.` in generated code), so both engines agree bit for bit.
import { XOP } from '../prog/prepare.ts';

const lo = (r: number): string => `r${r}l`;
const hi = (r: number): string => `r${r}h`;

/** A second operand: a register's halves, or an immediate's sign-extended halves as literals. */
export interface Operand {
  l: string;
  h: string;
  /** The halves as unsigned values (folded for immediates). */
  lu: string;
  hu: string;
  /** The immediate, for shifts by a constant. */
  k?: number;
}

export const regOperand = (r: number): Operand => ({ l: lo(r), h: hi(r), lu: `(${lo(r)} >>> 0)`, hu: `(${hi(r)} >>> 0)` });
export const immOperand = (imm: number): Operand => ({
  l: String(imm | 0), h: String((imm | 0) >> 31), lu: String(imm >>> 0), hu: String(((imm | 0) >> 31) >>> 0), k: imm | 0,
});

const bswap32 = (x: string): string => `(((${x} & 0xff) << 24) | ((${x} & 0xff00) << 8) | ((${x} >>> 8) & 0xff00) | (${x} >>> 24))`;

function shiftConst(op: 'lsh' | 'rsh' | 'arsh', d: number, n: number): string {
  const l = lo(d), h = hi(d);
  n &= 63;
  if (n === 0) return '';
  if (n < 32) {
    if (op === 'lsh') return `${h} = (${h} << ${n}) | (${l} >>> ${32 - n}); ${l} = ${l} << ${n};`;
    return `${l} = (${l} >>> ${n}) | (${h} << ${32 - n}); ${h} = ${h} ${op === 'rsh' ? '>>>' : '>>'} ${n}${op === 'rsh' ? ' | 0' : ''};`;
  }
  if (op === 'lsh') return `${h} = ${l} << ${n - 32}; ${l} = 0;`;
  if (op === 'rsh') return `${l} = ${h} >>> ${n - 32} | 0; ${h} = 0;`;
  return `${l} = ${h} >> ${n - 32}; ${h} = ${h} >> 31;`;
}

function viaInt64(fn: string, d: number, b: Operand): string {
  return `I.${fn}(${lo(d)}, ${hi(d)}, ${b.l}, ${b.h}); ${lo(d)} = OUT[0]; ${hi(d)} = OUT[1];`;
}

/** ALU64 (class 7) and its internal variants; `code` is the prepared (remapped) opcode. */
export function emitAlu64(code: number, d: number, b: Operand, imm: number): string {
  const l = lo(d), h = hi(d);
  switch (code & 0xf0) {
    case 0x00: return `{ const t = (${l} + ${b.l}) | 0; ${h} = (${h} + ${b.h} + ((t >>> 0) < (${l} >>> 0) ? 1 : 0)) | 0; ${l} = t; }`;
    case 0x10: return `{ const t = (${l} - ${b.l}) | 0; ${h} = (${h} - ${b.h} - ((${l} >>> 0) < ${b.lu} ? 1 : 0)) | 0; ${l} = t; }`;
    case 0x20: return viaInt64('mul64', d, b);
    case 0x30: return viaInt64('udiv64', d, b);
    case 0x40: return `${l} |= ${b.l}; ${h} |= ${b.h};`;
    case 0x50: return `${l} &= ${b.l}; ${h} &= ${b.h};`;
    case 0x60: return b.k !== undefined ? shiftConst('lsh', d, b.k) : `I.lsh64(${l}, ${h}, ${b.l}); ${l} = OUT[0]; ${h} = OUT[1];`;
    case 0x70: return b.k !== undefined ? shiftConst('rsh', d, b.k) : `I.rsh64(${l}, ${h}, ${b.l}); ${l} = OUT[0]; ${h} = OUT[1];`;
    case 0x80: return `{ const t = ${l}; ${l} = (-t) | 0; ${h} = (~${h} + (t === 0 ? 1 : 0)) | 0; }`;
    case 0x90: return viaInt64('umod64', d, b);
    case 0xa0: return `${l} ^= ${b.l}; ${h} ^= ${b.h};`;
    case 0xb0: return `${l} = ${b.l}; ${h} = ${b.h};`;
    case 0xc0: return b.k !== undefined ? shiftConst('arsh', d, b.k) : `I.arsh64(${l}, ${h}, ${b.l}); ${l} = OUT[0]; ${h} = OUT[1];`;
    case 0xd0: return emitEndian(0xdc, d, imm);
    case 0xe0: return viaInt64('sdiv64', d, b);
    case 0xf0: return viaInt64('smod64', d, b);
    default: throw new Error(`not an ALU64 opcode: 0x${code.toString(16)}`);
  }
}

/** ALU (class 4): 32-bit results, upper half zeroed. */
export function emitAlu32(code: number, d: number, b: Operand, imm: number): string {
  const l = lo(d), h = hi(d);
  const set = (expr: string): string => `${l} = ${expr}; ${h} = 0;`;
  switch (code & 0xf0) {
    case 0x00: return set(`(${l} + ${b.l}) | 0`);
    case 0x10: return set(`(${l} - ${b.l}) | 0`);
    case 0x20: return set(`Math.imul(${l}, ${b.l})`);
    case 0x30: return `{ const t = ${b.l} >>> 0; ${l} = t === 0 ? 0 : ((${l} >>> 0) / t) | 0; ${h} = 0; }`;
    case 0x40: return set(`${l} | ${b.l}`);
    case 0x50: return set(`${l} & ${b.l}`);
    case 0x60: return set(`${l} << ${b.l}`);
    case 0x70: return set(`(${l} >>> ${b.l}) | 0`);
    case 0x80: return set(`(-${l}) | 0`);
    case 0x90: return `{ const t = ${b.l} >>> 0; if (t !== 0) ${l} = ((${l} >>> 0) % t) | 0; ${h} = 0; }`;
    case 0xa0: return set(`${l} ^ ${b.l}`);
    case 0xb0: return set(b.l);
    case 0xc0: return set(`${l} >> ${b.l}`);
    case 0xd0: return emitEndian(code, d, imm);
    case 0xe0: return set(`I.sdiv32(${l}, ${b.l})`);
    case 0xf0: return set(`I.smod32(${l}, ${b.l})`);
    default: throw new Error(`not an ALU opcode: 0x${code.toString(16)}`);
  }
}

/** BPF_END: to-LE truncates (this host is little-endian); to-BE and bswap swap bytes. */
function emitEndian(code: number, d: number, width: number): string {
  const l = lo(d), h = hi(d);
  if (code === 0xd4) {
    if (width === 16) return `${l} &= 0xffff; ${h} = 0;`;
    if (width === 32) return `${h} = 0;`;
    return '';
  }
  if (width === 16) return `${l} = ((${l} & 0xff) << 8) | ((${l} >>> 8) & 0xff); ${h} = 0;`;
  if (width === 32) return `${l} = ${bswap32(l)}; ${h} = 0;`;
  return `{ const t = ${l}; ${l} = ${bswap32(h)}; ${h} = ${bswap32('t')}; }`;
}

/** Sign-extending moves (the internal MOVSX codes). */
export function emitMovsx(code: number, d: number, s: number): string {
  const l = lo(d), h = hi(d), sl = lo(s);
  switch (code) {
    case XOP.MOVSX64_8: return `${l} = (${sl} << 24) >> 24; ${h} = ${l} >> 31;`;
    case XOP.MOVSX64_16: return `${l} = (${sl} << 16) >> 16; ${h} = ${l} >> 31;`;
    case XOP.MOVSX64_32: return `${l} = ${sl}; ${h} = ${l} >> 31;`;
    case XOP.MOVSX32_8: return `${l} = (${sl} << 24) >> 24; ${h} = 0;`;
    default: return `${l} = (${sl} << 16) >> 16; ${h} = 0;`;
  }
}

/** The condition of a conditional jump as a JavaScript boolean expression. */
export function jumpCondition(op: number, wide: boolean, d: number, b: Operand): string {
  const dl = lo(d), dh = hi(d);
  if (!wide) {
    switch (op) {
      case 0x10: return `${dl} === ${b.l}`;
      case 0x50: return `${dl} !== ${b.l}`;
      case 0x20: return `(${dl} >>> 0) > ${b.lu}`;
      case 0x30: return `(${dl} >>> 0) >= ${b.lu}`;
      case 0xa0: return `(${dl} >>> 0) < ${b.lu}`;
      case 0xb0: return `(${dl} >>> 0) <= ${b.lu}`;
      case 0x60: return `${dl} > ${b.l}`;
      case 0x70: return `${dl} >= ${b.l}`;
      case 0xc0: return `${dl} < ${b.l}`;
      case 0xd0: return `${dl} <= ${b.l}`;
      default: return `(${dl} & ${b.l}) !== 0`;
    }
  }
  const sameHi = `${dh} === ${b.h}`;
  const u = (cmp: string): string => `(${sameHi} ? (${dl} >>> 0) ${cmp} ${b.lu} : (${dh} >>> 0) ${cmp[0]} ${b.hu})`;
  const s = (cmp: string): string => `(${sameHi} ? (${dl} >>> 0) ${cmp} ${b.lu} : ${dh} ${cmp[0]} ${b.h})`;
  switch (op) {
    case 0x10: return `(${dl} === ${b.l} && ${sameHi})`;
    case 0x50: return `(${dl} !== ${b.l} || ${dh} !== ${b.h})`;
    case 0x20: return u('>');
    case 0x30: return u('>=');
    case 0xa0: return u('<');
    case 0xb0: return u('<=');
    case 0x60: return s('>');
    case 0x70: return s('>=');
    case 0xc0: return s('<');
    case 0xd0: return s('<=');
    default: return `((${dl} & ${b.l}) !== 0 || (${dh} & ${b.h}) !== 0)`;
  }
}
