// Loads, stores and atomics through a pointer register (the kernel's check_mem_access idea): each
// pointer type has its own bounds. Packet: fixed offset inside the proven range, non-negative
// variable part. Map value: [min, max] of the offset inside value_size. Stack: inside the frame,
// aligned, written before read. Context: the program type's rules.
import { ctxAccess, mayAccessPacket } from './ctx-access.ts';
import { checkSockAccess, tcpSockConversionFails } from './sock-access.ts';
import { checkPtrToBtfAccess, checkRdonlyUntrustedAccess } from './btf-access.ts';
import type { Env } from './env.ts';
import { reject } from './env-types.ts';
import { isPointer, regTypeStr, scalarReg, typeName, ZERO_SCALAR, type Reg } from './reg-state.ts';
import { isConst, unknownOfSize, unknownSigned } from './scalar.ts';
import { byteIndex } from './stack.ts';
import type { VState } from './state.ts';
import { tnumAdd, tnumConst, tnumIsAligned, tnumToString } from './tnum.ts';

/** BPF_MAX_VAR_OFF: variable offsets beyond this are never accepted. */
export const MAX_VAR_OFF = 1 << 29;
const MAX_PACKET_OFF = 0xffff;

export interface Access {
  regno: number;
  /** The instruction's offset. */
  off: number;
  size: number;
  write: boolean;
  /** The register stored (STX), a constant (ST), or undefined (atomics' write-back, helpers). */
  value?: Reg;
  /** Which register `value` came from (for messages). */
  valueReg?: number;
  signed?: boolean;
  atomic?: boolean;
}

const varString = (r: Reg): string => (isConst(r.s) ? `${BigInt.asIntN(64, r.s.t.value)}` : tnumToString(r.s.t));
const loaded = (size: number, signed: boolean | undefined): Reg =>
  scalarReg(signed && size < 8 ? unknownSigned(size) : unknownOfSize(size));

function checkAligned(r: Reg, a: Access, what: string, strict: boolean): void {
  if (!strict || a.size <= 1) return;
  const t = tnumAdd(r.s.t, tnumConst(BigInt(r.off + a.off)));
  if (!tnumIsAligned(t, a.size)) reject(`misaligned ${what}access off ${varString(r)}+${r.off}+${a.off} size ${a.size}`);
}

/** Checks the access and returns what a load yields (undefined for stores). */
export function checkMemAccess(env: Env, st: VState, a: Access): Reg | undefined {
  const r = st.reg(a.regno);
  env.scratchReg(a.regno);
  switch (r.type) {
    case 'ctx': {
      if (a.atomic) reject(`BPF_ATOMIC stores into R${a.regno} ctx is not allowed`);
      if (r.off !== 0) reject(`dereference of modified ctx ptr R${a.regno} off=${r.off} disallowed`);
      if (!isConst(r.s) || r.s.t.value !== 0n) reject(`variable ctx access var_off=${tnumToString(r.s.t)} disallowed`);
      const res = ctxAccess(env.progType, { off: a.off, size: a.size, write: a.write, signed: a.signed ?? false, newId: () => env.newId() });
      return a.write ? undefined : res;
    }
    case 'pkt': case 'pkt_meta': {
      if (a.atomic) reject(`BPF_ATOMIC stores into R${a.regno} ${r.type} is not allowed`);
      if (!mayAccessPacket(env.progType, a.write)) reject(a.write ? 'cannot write into packet' : `R${a.regno} invalid mem access '${r.type}'`);
      packetBounds(r, a.regno, r.off + a.off, a.size);
      return a.write ? undefined : loaded(a.size, a.signed);
    }
    case 'map_value': {
      if (a.atomic) checkAligned(r, a, 'value ', true);
      if (a.write && a.value !== undefined && isPointer(a.value) && !env.opts.allowPtrLeaks) reject(`R${a.valueReg ?? 0} leaks addr into map`);
      mapValueBounds(env, r, a.regno, a.off, a.size, a.write);
      return a.write ? undefined : loaded(a.size, a.signed);
    }
    case 'stack': return stackAccess(env, st, r, a);
    case 'map_key':
      // A for_each callback's key points into the map: it may be read, never changed.
      if (a.write) reject(`write to change key R${a.regno} not allowed`);
      memBounds(r, a.regno, a.off, a.size);
      return loaded(a.size, a.signed);
    case 'ringbuf_mem': {
      if (a.write && a.value !== undefined && isPointer(a.value) && !env.opts.allowPtrLeaks) reject(`R${a.valueReg ?? 0} leaks addr into mem`);
      memBounds(r, a.regno, a.off, a.size);
      return a.write ? undefined : loaded(a.size, a.signed);
    }
    case 'sock': case 'sock_common': case 'tcp_sock': {
      if (a.atomic) reject(`BPF_ATOMIC stores into R${a.regno} ${r.type} is not allowed`);
      if (a.write) reject(`R${a.regno} cannot write into ${typeName(r.type)}`);
      checkSockAccess(r, a.regno, r.off + a.off, a.size);
      if (r.type === 'tcp_sock' && tcpSockConversionFails(r.off + a.off, a.size)) env.ctxConvertFault = true;
      return loaded(a.size, a.signed);
    }
    case 'ptr_': {
      const v = checkPtrToBtfAccess(env, r, a);
      return a.write ? undefined : v;
    }
    case 'rdonly_untrusted_mem': {
      const v = checkRdonlyUntrustedAccess(r, a);
      return a.write ? undefined : v;
    }
    case 'not_init': return reject(`R${a.regno} !read_ok`);
    default: return reject(`R${a.regno} invalid mem access '${regTypeStr(r)}'`);
  }
}

/** [off, off + size) of a packet pointer inside its proven range. */
export function packetBounds(r: Reg, regno: number, off: number, size: number): void {
  if (r.s.smin < 0n) reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  if (off < 0 || size < 0 || off + size > r.range || r.s.umax + BigInt(off + size) > BigInt(MAX_PACKET_OFF)) {
    reject(`invalid access to packet, off=${off} size=${size}, R${regno}(id=${r.id},off=${off},r=${r.range})`,
      `R${regno} offset is outside of the packet`);
  }
}

/** [insnOff + min, insnOff + max + size) of a map value pointer inside value_size. */
export function mapValueBounds(env: Env, r: Reg, regno: number, insnOff: number, size: number, write: boolean): void {
  const vs = env.map(r.map).spec.valueSize;
  const off = r.off + insnOff;
  if (write && env.mapReadOnly(r.map)) reject(`write into map forbidden, value_size=${vs} off=${off} size=${size}`);
  if (!write && env.mapWriteOnly(r.map)) reject(`read from map forbidden, value_size=${vs} off=${off} size=${size}`);
  const lo = r.s.smin + BigInt(off);
  if (r.s.smin < 0n && lo < 0n) reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  if (lo < 0n || lo + BigInt(size) > BigInt(vs)) {
    reject(`invalid access to map value, value_size=${vs} off=${lo} size=${size}`, `R${regno} min value is outside of the allowed memory range`);
  }
  if (r.s.umax >= BigInt(MAX_VAR_OFF)) reject(`R${regno} unbounded memory access, make sure to bounds check any such access`);
  const hi = r.s.umax + BigInt(off);
  if (hi + BigInt(size) > BigInt(vs)) {
    reject(`invalid access to map value, value_size=${vs} off=${hi} size=${size}`, `R${regno} max value is outside of the allowed memory range`);
  }
}

/** check_mem_region_access: [insnOff + min, insnOff + max + size) of a PTR_TO_MEM inside mem_size (kept in `range`). */
export function memBounds(r: Reg, regno: number, insnOff: number, size: number): void {
  const ms = r.range;
  const off = r.off + insnOff;
  const lo = r.s.smin + BigInt(off);
  if (r.s.smin < 0n && lo < 0n) reject(`R${regno} min value is negative, either use unsigned index or do a if (index >=0) check.`);
  if (lo < 0n || lo + BigInt(size) > BigInt(ms)) {
    reject(`invalid access to memory, mem_size=${ms} off=${lo} size=${size}`, `R${regno} min value is outside of the allowed memory range`);
  }
  if (r.s.umax >= BigInt(MAX_VAR_OFF)) reject(`R${regno} unbounded memory access, make sure to bounds check any such access`);
  const hi = r.s.umax + BigInt(off);
  if (hi + BigInt(size) > BigInt(ms)) {
    reject(`invalid access to memory, mem_size=${ms} off=${hi} size=${size}`, `R${regno} max value is outside of the allowed memory range`);
  }
}

/** The kernel's get_reg_width(r) <= 8 * size: the scalar's value needs no more than `size` bytes. */
export const fitsIn = (r: Reg, size: number): boolean => size >= 8 || r.s.umax < 1n << BigInt(8 * size);

function stackAccess(env: Env, st: VState, r: Reg, a: Access): Reg | undefined {
  const frame = st.frames[r.frame]!;
  const rw = a.write ? 'write to' : 'read from';
  checkAligned(r, a, 'stack ', true);
  if (a.value !== undefined && a.value.type === 'stack' && a.value.frame > r.frame) {
    reject('cannot spill pointers to stack into stack frame of the caller');
  }
  if (isConst(r.s)) {
    const off = r.off + a.off + Number(BigInt.asIntN(64, r.s.t.value));
    if (off < -512 || off + a.size > 0) reject(`invalid ${rw} stack R${a.regno} off=${off} size=${a.size}`);
    env.noteStackDepth(frame.subprog, off);
    if (r.frame === st.curframe) env.scratchSlot(off);
    if (a.write) {
      let v = a.value;
      if (v !== undefined && isPointer(v) && a.size !== 8) reject('invalid size of register spill');
      // A spill at the start of a slot of a scalar whose value fits links the slot to the register
      // (the kernel's assign_scalar_id_before_mov on spill): a bounds check on either one after this
      // bounds the other, and the fill keeps the link.
      if (v !== undefined && v.type === 'scalar' && v.id === 0 && !isConst(v.s) && a.valueReg !== undefined &&
          (off & 7) === 0 && fitsIn(v, a.size)) {
        v = { ...v, id: env.newId() };
        st.setReg(a.valueReg, v);
      }
      const val = v;
      const spill = val !== undefined && (isPointer(val) || val.type === 'scalar');
      // A zero is spilled like any scalar (6.18's save_register_state): a later narrow store into the
      // slot turns all of it into unknown bytes, as it does for the kernel.
      frame.stack.write(off, a.size, val, spill);
      return undefined;
    }
    const res = frame.stack.read(off, a.size, a.signed ?? false, env.opts.allowUninitStack);
    if (!res.ok) reject(res.msg);
    // An atomic on a spilled pointer is allowed as in the kernel: its write turns the slot into
    // plain bytes (misc), so the pointer cannot be filled back; a fetch yields an unknown number.
    return res.reg;
  }
  // Variable offset: every byte the access may touch must be inside the frame.
  const base = BigInt(r.off + a.off);
  const lo = base + r.s.smin, hi = base + r.s.smax + BigInt(a.size);
  if (r.s.smin <= -BigInt(MAX_VAR_OFF) || r.s.smax >= BigInt(MAX_VAR_OFF) || lo < -512n || hi > 0n) {
    reject(`invalid variable-offset ${rw} stack R${a.regno} var_off=${tnumToString(r.s.t)} off=${r.off + a.off} size=${a.size}`);
  }
  const b = byteIndex(Number(lo)), e = byteIndex(Number(hi));
  env.noteStackDepth(frame.subprog, Number(lo));
  if (a.write) {
    const zero = a.value !== undefined && a.value.type === 'scalar' && isConst(a.value.s) && a.value.s.t.value === 0n;
    frame.stack.markMisc(b, e, zero);
    return undefined;
  }
  const bad = frame.stack.firstInvalid(b, e);
  if (bad >= 0 && !env.opts.allowUninitStack) {
    reject(`invalid variable-offset read from stack R${a.regno} var_off=${tnumToString(r.s.t)} off=${r.off + a.off} size=${a.size}`);
  }
  if (a.atomic && frame.stack.pointerSpillIn(b, e)) reject(`BPF_ATOMIC on a spilled pointer at R${a.regno} is not allowed`);
  if (frame.stack.allZero(b, e)) return ZERO_SCALAR;
  return loaded(a.size, a.signed);
}
