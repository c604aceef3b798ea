// One register's abstract state. Registers are immutable values: a change makes a new object, so
// cloning a verifier state copies arrays of references, never registers.
import { isConst, SCALAR_UNKNOWN, SCALAR_ZERO, scalarConst, type Scalar } from './scalar.ts';

export type RegType =
  | 'not_init' | 'scalar' | 'ctx' | 'map_ptr' | 'map_value' | 'map_value_or_null' | 'stack'
  | 'pkt' | 'pkt_meta' | 'pkt_end' | 'sock' | 'sock_or_null' | 'sock_common' | 'sock_common_or_null'
  | 'tcp_sock' | 'tcp_sock_or_null'
  | 'ringbuf_mem' | 'ringbuf_mem_or_null'
  /** PTR_TO_FUNC (ld_imm64 src 4): `map` holds the subprogram's index. */
  | 'func'
  /** PTR_TO_MAP_KEY: a bpf_for_each_map_elem callback's key, read-only, `map` as for map values. */
  | 'map_key'
  /**
   * PTR_TO_BTF_ID (and with PTR_MAYBE_NULL): a kernel struct of vxo's kernel BTF, `btfId` its type
   * id, `flags` its BTF_FLAG modifiers. Spelled as the kernel's reg_type_str spells the base type.
   */
  | 'ptr_' | 'ptr_or_null_'
  /**
   * PTR_TO_MEM | MEM_RDONLY | PTR_UNTRUSTED: a pointer member whose pointee is not a struct (skb->head,
   * a pointer to a struct vxo only forward-declares): read-only, any offset, loads are PROBE_MEM.
   */
  | 'rdonly_untrusted_mem';

/** The kernel's bpf_type_flag modifiers a PTR_TO_BTF_ID carries (besides PTR_MAYBE_NULL, which is the type). */
export const BTF_FLAG = {
  PTR_TRUSTED: 1,
  PTR_UNTRUSTED: 2,
  MEM_RCU: 4,
} as const;

export interface Reg {
  readonly type: RegType;
  /** A scalar's value, or a pointer's variable offset (zero when the offset is fixed). */
  readonly s: Scalar;
  /** A pointer's fixed offset. */
  readonly off: number;
  /**
   * Scalars: registers holding the same value share an id (copies), so what a branch learns of one
   * applies to all. Packet pointers: pointers with the same variable part. Nullable pointers: copies
   * of one helper result, converted together by a null check.
   */
  readonly id: number;
  /** The acquired reference this pointer holds (sockets), 0 if none. */
  readonly refId: number;
  /**
   * Packet pointers: bytes [ptr, ptr + range) are proven inside the packet. Ringbuf records: the
   * record's size (the kernel's mem_size), so that pruning compares it with the rest.
   */
  readonly range: number;
  /** Map pointers, map values and keys: index into the program's map table; functions: the subprogram; -1 otherwise. */
  readonly map: number;
  /** Stack pointers: the frame whose stack they point into. */
  readonly frame: number;
  /** PTR_TO_BTF_ID: the struct's type id in kernelBtf(); 0 otherwise. */
  readonly btfId: number;
  /** PTR_TO_BTF_ID: BTF_FLAG bits; 0 otherwise. */
  readonly flags: number;
}

const BASE: Reg = Object.freeze({
  type: 'not_init', s: SCALAR_UNKNOWN, off: 0, id: 0, refId: 0, range: 0, map: -1, frame: 0, btfId: 0, flags: 0,
}) as Reg;

export const NOT_INIT: Reg = BASE;
export const UNKNOWN_SCALAR: Reg = Object.freeze({ ...BASE, type: 'scalar' }) as Reg;
export const ZERO_SCALAR: Reg = Object.freeze({ ...BASE, type: 'scalar', s: SCALAR_ZERO }) as Reg;

export function scalarReg(s: Scalar, id = 0): Reg {
  if (id === 0 && s === SCALAR_UNKNOWN) return UNKNOWN_SCALAR;
  return { ...BASE, type: 'scalar', s, id };
}

export const constReg = (v: bigint): Reg => scalarReg(scalarConst(v));

export function ptrReg(type: RegType, fields: Partial<Omit<Reg, 'type'>> = {}): Reg {
  return { ...BASE, s: SCALAR_ZERO, ...fields, type };
}

export const with_ = (r: Reg, fields: Partial<Reg>): Reg => ({ ...r, ...fields });

export const isPointer = (r: Reg): boolean => r.type !== 'scalar' && r.type !== 'not_init';
export const isPktPointer = (t: RegType): boolean => t === 'pkt' || t === 'pkt_meta';
export const mayBeNull = (t: RegType): boolean =>
  t === 'map_value_or_null' || t === 'sock_or_null' || t === 'sock_common_or_null' || t === 'tcp_sock_or_null' ||
  t === 'ringbuf_mem_or_null' || t === 'ptr_or_null_';
/** The kernel's type_is_sk_pointer: a socket pointer that may be dereferenced (struct bpf_sock / bpf_tcp_sock). */
export const isSkPointer = (t: RegType): boolean => t === 'sock' || t === 'sock_common' || t === 'tcp_sock';
export const isSockType = (t: RegType): boolean =>
  isSkPointer(t) || t === 'sock_or_null' || t === 'sock_common_or_null' || t === 'tcp_sock_or_null';

/** The non-null type a null check turns a nullable pointer into. */
export function nonNullType(t: RegType): RegType {
  switch (t) {
    case 'map_value_or_null': return 'map_value';
    case 'sock_or_null': return 'sock';
    case 'sock_common_or_null': return 'sock_common';
    case 'tcp_sock_or_null': return 'tcp_sock';
    case 'ringbuf_mem_or_null': return 'ringbuf_mem';
    case 'ptr_or_null_': return 'ptr_';
    default: return t;
  }
}

export const isBtfPointer = (t: RegType): boolean => t === 'ptr_' || t === 'ptr_or_null_';

/**
 * The kernel's is_trusted_reg for a PTR_TO_BTF_ID: one holding a reference, or marked PTR_TRUSTED
 * with no unsafe modifier (untrusted, RCU, nullable); socket pointers (reg2btf_ids) always are.
 */
export function isTrustedReg(r: Reg): boolean {
  if (r.refId !== 0) return true;
  if (isSkPointer(r.type)) return true;
  return r.type === 'ptr_' && r.flags === BTF_FLAG.PTR_TRUSTED;
}

/**
 * Whether a pointer can never be NULL (reg_not_null): a walked BTF pointer member or an untrusted
 * memory pointer may be NULL at run time, its loads made safe by the exception table, not by a check.
 */
export const isNonNullPointer = (r: Reg): boolean =>
  isPointer(r) && !mayBeNull(r.type) && r.type !== 'rdonly_untrusted_mem' && (r.type !== 'ptr_' || isTrustedReg(r));

/**
 * The kernel's reg_type_str with its modifier prefixes (`trusted_ptr_`, `untrusted_ptr_`,
 * `rcu_ptr_or_null_`), for messages about a register.
 */
export function regTypeStr(r: Reg): string {
  if (!isBtfPointer(r.type)) return typeName(r.type);
  const f = r.flags;
  return `${f & BTF_FLAG.MEM_RCU ? 'rcu_' : ''}${f & BTF_FLAG.PTR_UNTRUSTED ? 'untrusted_' : ''}${f & BTF_FLAG.PTR_TRUSTED ? 'trusted_' : ''}${r.type}`;
}

/** The kernel's reg_type_str spelling, used in messages. */
export function typeName(t: RegType): string {
  switch (t) {
    case 'not_init': return '?';
    case 'stack': return 'fp';
    default: return t;
  }
}

export const isScalarConst = (r: Reg): boolean => r.type === 'scalar' && isConst(r.s);
export const isKnownZero = (r: Reg): boolean => r.type === 'scalar' && isConst(r.s) && r.s.t.value === 0n;
