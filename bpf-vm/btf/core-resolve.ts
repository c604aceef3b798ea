// CO-RE: what one relocation (core-relos.ts) resolves to against a target BTF (vxo's kernel BTF),
// by libbpf's rules (src/relo_core.c): the local spec is parsed from the access string; candidates
// are the target types of the same kind whose essential name (before the last `___`) equals the
// local one; a field path is matched member by member by name, descending into anonymous members,
// with compatible member types; type relocations use bpf_core_types_are_compat (TYPE_MATCHES the
// stricter bpf_core_types_match). The value is computed for the local spec (what clang wrote) and
// for the target's. No match: the *_EXISTS kinds and every type-based kind give 0, the other field
// and enumerator kinds poison the instruction (libbpf rewrites it into a call that fails
// verification only if reached).
//
// This computes values only; patching the instruction (ALU imm, LDX/ST/STX off and size, LD_IMM64)
// is the loader's (libbpf's bpf_core_patch_insn), as is the error message naming program and insn.
import type { Btf } from './btf.ts';
import { BTF_INT } from './btf-encode.ts';
import { BPF_CORE, BPF_CORE_KIND_STR, type CoreRelo } from './core-relos.ts';
import type { BtfType } from './types.ts';

/** libbpf's BPF_CORE_SPEC_MAX_LEN. */
const SPEC_MAX_LEN = 64;

interface Accessor {
  typeId: number;
  idx: number;
  /** Member or enumerator name; undefined for an array index. */
  name?: string;
}

/** A parsed access: the accessors (named members and array indices) and the bit offset they reach. */
export interface CoreSpec {
  btf: Btf;
  rootTypeId: number;
  spec: Accessor[];
  /** The raw indices, anonymous members included (the access string, for the target: what libbpf logs). */
  raw: number[];
  bitOffset: number;
}

export interface CoreReloResult {
  /** The value computed from the program's own BTF (what clang put in the instruction). */
  origVal: number;
  /** The value for the target; meaningless when `poison`. */
  newVal: number;
  /** No candidate matched and the kind has no "does not exist" value. */
  poison: boolean;
  /**
   * FIELD_BYTE_OFFSET of a non-bitfield: the field's size in the program and in the target (an
   * array's element size), 0 otherwise; the loader adjusts a load/store whose sizes differ.
   */
  origSize: number;
  newSize: number;
  /** The sizes differ and the field is neither a pointer nor an unsigned integer on both sides: an LDX/ST/STX is poisoned. */
  failMemszAdjust: boolean;
  /** The access with its target path, for logs: `struct tcp_sock.rx_opt.snd_wscale` style raw spec. */
  targetSpec?: CoreSpec;
  /**
   * libbpf's `validate`: the instruction must hold origVal. Off for bitfield field relocations
   * (but signedness and the right shift) and for type ids, which linking may renumber.
   */
  validate: boolean;
}

export class CoreReloError extends Error {
  readonly code = 'ECORE';
  constructor(message: string) {
    super(message);
    this.name = 'CoreReloError';
  }
}

const isFieldKind = (k: number): boolean => k <= BPF_CORE.FIELD_RSHIFT_U64;
const isTypeKind = (k: number): boolean => k === BPF_CORE.TYPE_ID_LOCAL || k === BPF_CORE.TYPE_ID_TARGET || k === BPF_CORE.TYPE_EXISTS || k === BPF_CORE.TYPE_SIZE || k === BPF_CORE.TYPE_MATCHES;
const isEnumvalKind = (k: number): boolean => k === BPF_CORE.ENUMVAL_EXISTS || k === BPF_CORE.ENUMVAL_VALUE;
const isComposite = (t: BtfType | undefined): t is Extract<BtfType, { kind: 'struct' | 'union' }> => t?.kind === 'struct' || t?.kind === 'union';
const isAnyEnum = (t: BtfType | undefined): t is Extract<BtfType, { kind: 'enum' | 'enum64' }> => t?.kind === 'enum' || t?.kind === 'enum64';

/**
 * bpf_core_essential_name_len: the name before the LAST `X___Y` separator (X and Y not underscores),
 * so `tcp_sock___local` is a flavour of `tcp_sock`, `a___b___c` of `a___b`, and `a____b` of nothing.
 */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') return name.slice(0, i + 1);
  }
  return name;
}

/** bpf_core_names_match: an empty target name matches only an empty local one. */
function namesMatch(local: string, targ: string): boolean {
  if (targ === '') return local === '';
  return essentialName(local) === essentialName(targ);
}

function skip(btf: Btf, id: number): { id: number; t: BtfType | undefined } {
  const r = btf.skipQualifiers(id);
  return { id: r, t: btf.type(r) };
}

/** bpf_core_parse_spec. */
export function bpf_core_parse_spec(btf: Btf, typeId: number, accessStr: string, kind: number): CoreSpec {
  const raw = accessStr.split(':').map((s) => {
    if (!/^\d+$/.test(s)) throw new CoreReloError(`bad CO-RE access string '${accessStr}'`);
    return Number(s);
  });
  if (raw.length === 0 || raw.length > SPEC_MAX_LEN) throw new CoreReloError(`bad CO-RE access string '${accessStr}'`);
  const spec: CoreSpec = { btf, rootTypeId: typeId, spec: [], raw, bitOffset: 0 };
  if (isTypeKind(kind)) {
    if (raw[0] !== 0) throw new CoreReloError(`type relocation with access string '${accessStr}'`);
    return spec;
  }
  let { id, t } = skip(btf, typeId);
  if (!t) throw new CoreReloError(`CO-RE relocation against void (type ${typeId})`);
  const first = raw[0]!;
  if (isEnumvalKind(kind)) {
    if (!isAnyEnum(t) || raw.length > 1 || first >= t.values.length) throw new CoreReloError(`enum relocation '${accessStr}' on ${btf.nameOf(typeId)}`);
    spec.spec.push({ typeId: id, idx: first, name: t.values[first]!.name });
    return spec;
  }
  if (!isFieldKind(kind)) throw new CoreReloError(`unknown CO-RE relocation kind ${kind}`);
  spec.spec.push({ typeId: id, idx: first });
  spec.bitOffset = first * btf.sizeOf(id) * 8;
  for (let i = 1; i < raw.length; i++) {
    ({ id, t } = skip(btf, id));
    const idx = raw[i]!;
    if (isComposite(t)) {
      const m = t.members[idx];
      if (!m) throw new CoreReloError(`access '${accessStr}': member ${idx} of ${btf.nameOf(id)} does not exist`);
      spec.bitOffset += m.bitOffset;
      if (m.name !== '') spec.spec.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t?.kind === 'array') {
      const elem = skip(btf, t.type);
      if (!isFlexArray(btf, spec.spec[spec.spec.length - 1], t) && idx >= t.nelems) throw new CoreReloError(`access '${accessStr}': index ${idx} beyond ${t.nelems} elements`);
      spec.spec.push({ typeId: elem.id, idx });
      spec.bitOffset += idx * btf.sizeOf(elem.id) * 8;
      id = elem.id;
    } else {
      throw new CoreReloError(`access '${accessStr}' steps into ${t?.kind ?? 'void'} ${btf.nameOf(id)}`);
    }
  }
  return spec;
}

/** is_flex_arr: a zero-length array as the last member of its struct. */
function isFlexArray(btf: Btf, acc: Accessor | undefined, arr: Extract<BtfType, { kind: 'array' }>): boolean {
  if (arr.nelems !== 0 || acc?.name === undefined) return false;
  const t = btf.type(acc.typeId);
  return isComposite(t) && acc.idx === t.members.length - 1;
}

/** bpf_core_fields_are_compat. */
function fieldsAreCompat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  for (let depth = 0; depth < 32; depth++) {
    const l = skip(lb, lid), r = skip(tb, tid);
    if (isComposite(l.t) && isComposite(r.t)) return true;
    if (!l.t || !r.t) return false;
    if (l.t.kind !== r.t.kind && !(isAnyEnum(l.t) && isAnyEnum(r.t))) return false;
    switch (l.t.kind) {
      case 'ptr': case 'float':
        return true;
      case 'fwd': case 'enum': case 'enum64':
        return l.t.name === '' || r.t.name === '' || essentialName(l.t.name) === essentialName(r.t.name);
      case 'int':
        return l.t.bitOffset === 0 && r.t.kind === 'int' && r.t.bitOffset === 0;
      case 'array':
        if (r.t.kind !== 'array') return false;
        lid = l.t.type;
        tid = r.t.type;
        continue;
      default:
        return false;
    }
  }
  return false;
}

/** btf_kind_core_compat: the same kind, or enum and enum64 (either way). */
function kindCoreCompat(l: BtfType, r: BtfType): boolean {
  return l.kind === r.kind || (isAnyEnum(l) && isAnyEnum(r));
}

/**
 * bpf_core_types_are_compat: type-based relocations, and a kfunc extern's prototype against the
 * kernel's. The roots are compared before typedefs are skipped (the caller matched their names).
 */
export function bpf_core_types_are_compat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  const l0 = lb.type(lid), r0 = tb.type(tid);
  if (l0 && r0 && !kindCoreCompat(l0, r0)) return false;
  return typesAreCompat(lb, lid, tb, tid, 32);
}

function typesAreCompat(lb: Btf, lid: number, tb: Btf, tid: number, level: number): boolean {
  for (let depth = 32; depth > 0; depth--) {
    const l = skip(lb, lid), r = skip(tb, tid);
    // void (id 0) is BTF_KIND_UNKN in libbpf: compatible only with itself.
    if (!l.t || !r.t) return !l.t && !r.t;
    if (!kindCoreCompat(l.t, r.t)) return false;
    switch (l.t.kind) {
      case 'struct': case 'union': case 'enum': case 'enum64': case 'fwd':
        return true;
      case 'int':
        // Only the deprecated bitfield-like integers are refused.
        return l.t.bitOffset === 0 && r.t.kind === 'int' && r.t.bitOffset === 0;
      case 'ptr':
        if (r.t.kind !== 'ptr') return false;
        lid = l.t.type;
        tid = r.t.type;
        continue;
      case 'array':
        if (r.t.kind !== 'array') return false;
        lid = l.t.type;
        tid = r.t.type;
        continue;
      case 'func_proto': {
        if (r.t.kind !== 'func_proto' || l.t.params.length !== r.t.params.length) return false;
        if (level <= 0) return false;
        const rp = r.t.params;
        if (!l.t.params.every((p, i) => typesAreCompat(lb, p.type, tb, rp[i]!.type, level - 1))) return false;
        lid = l.t.returnType;
        tid = r.t.returnType;
        continue;
      }
      default:
        return false;
    }
  }
  return false;
}

/**
 * bpf_core_types_match (BPF_CORE_TYPE_MATCHES, bpf_core_type_matches()): stricter than compat —
 * names match at every level, ints by size and signedness, arrays by length, every local member
 * and enumerator found by name in the target; behind a pointer a struct matches a fwd of its kind.
 */
export function bpf_core_types_match(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  return typesMatch(lb, lid, tb, tid, false, 32);
}

function typesMatch(lb: Btf, lid: number, tb: Btf, tid: number, behindPtr: boolean, level: number): boolean {
  if (level <= 0) return false;
  for (let depth = 32; depth > 0; depth--) {
    const l = skip(lb, lid), r = skip(tb, tid);
    if (!l.t || !r.t) return !l.t && !r.t;
    if (!namesMatch(l.t.name, r.t.name)) return false;
    const lt = l.t, rt = r.t;
    switch (lt.kind) {
      case 'fwd':
        if (rt.kind === 'fwd') return lt.union === rt.union;
        return behindPtr && ((rt.kind === 'struct' && !lt.union) || (rt.kind === 'union' && lt.union));
      case 'enum': case 'enum64':
        return isAnyEnum(rt) && lt.size === rt.size && lt.values.length <= rt.values.length &&
          lt.values.every((v) => rt.values.some((w) => namesMatch(v.name, w.name)));
      case 'struct': case 'union':
        if (behindPtr) return lt.kind === rt.kind || (rt.kind === 'fwd' && rt.union === (lt.kind === 'union'));
        if (lt.kind !== rt.kind || !isComposite(rt) || lt.members.length > rt.members.length) return false;
        return lt.members.every((m) => rt.members.some((n) => namesMatch(m.name, n.name) && typesMatch(lb, m.type, tb, n.type, behindPtr, level - 1)));
      case 'int':
        return rt.kind === 'int' && lt.size === rt.size && (lt.encoding & BTF_INT.SIGNED) === (rt.encoding & BTF_INT.SIGNED);
      case 'ptr':
        if (rt.kind !== 'ptr') return false;
        behindPtr = true;
        lid = lt.type;
        tid = rt.type;
        continue;
      case 'array':
        if (rt.kind !== 'array' || lt.nelems !== rt.nelems) return false;
        lid = lt.type;
        tid = rt.type;
        continue;
      case 'func_proto': {
        if (rt.kind !== 'func_proto' || lt.params.length !== rt.params.length) return false;
        const rp = rt.params;
        if (!lt.params.every((p, i) => typesMatch(lb, p.type, tb, rp[i]!.type, behindPtr, level - 1))) return false;
        lid = lt.returnType;
        tid = rt.returnType;
        continue;
      }
      default:
        return false;
    }
  }
  return false;
}

/** bpf_core_match_member: finds `name` in target composite `targId`, through anonymous members. */
function matchMember(local: CoreSpec, lacc: Accessor, tb: Btf, targId: number, spec: CoreSpec): number | undefined {
  const lt = local.btf.type(lacc.typeId);
  if (!isComposite(lt)) return undefined;
  const lm = lt.members[lacc.idx]!;
  const { id, t } = skip(tb, targId);
  if (!isComposite(t)) return undefined;
  for (const [i, m] of t.members.entries()) {
    if (spec.raw.length >= SPEC_MAX_LEN) throw new CoreReloError('CO-RE access too deep');
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      const found = matchMember(local, lacc, tb, m.type, spec);
      if (found !== undefined) return found;
    } else if (m.name === lm.name) {
      if (!fieldsAreCompat(local.btf, lm.type, tb, m.type)) return undefined;
      spec.spec.push({ typeId: id, idx: i, name: m.name });
      return m.type;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return undefined;
}

/** bpf_core_spec_match: the target spec for candidate `targId`, or undefined. */
export function bpf_core_spec_match(local: CoreSpec, kind: number, tb: Btf, targId: number): CoreSpec | undefined {
  const spec: CoreSpec = { btf: tb, rootTypeId: targId, spec: [], raw: [], bitOffset: 0 };
  if (isTypeKind(kind)) {
    const ok = kind === BPF_CORE.TYPE_MATCHES ? bpf_core_types_match(local.btf, local.rootTypeId, tb, targId) : bpf_core_types_are_compat(local.btf, local.rootTypeId, tb, targId);
    return ok ? spec : undefined;
  }
  if (isEnumvalKind(kind)) {
    const { id, t } = skip(tb, targId);
    if (!isAnyEnum(t)) return undefined;
    const want = essentialName(local.spec[0]!.name!);
    const i = t.values.findIndex((v) => essentialName(v.name) === want);
    if (i < 0) return undefined;
    spec.spec.push({ typeId: id, idx: i, name: t.values[i]!.name });
    spec.raw.push(i);
    return spec;
  }
  let targ = targId;
  for (const [i, lacc] of local.spec.entries()) {
    const s = skip(tb, targ);
    targ = s.id;
    if (!s.t) return undefined;
    if (lacc.name !== undefined) {
      const next = matchMember(local, lacc, tb, targ, spec);
      if (next === undefined) return undefined;
      targ = next;
      continue;
    }
    if (i > 0) {
      if (s.t.kind !== 'array') return undefined;
      if (!isFlexArray(tb, spec.spec[spec.spec.length - 1], s.t) && lacc.idx >= s.t.nelems) return undefined;
      targ = skip(tb, s.t.type).id;
    }
    spec.spec.push({ typeId: targ, idx: lacc.idx });
    spec.raw.push(lacc.idx);
    spec.bitOffset += lacc.idx * tb.sizeOf(targ) * 8;
  }
  return spec;
}

/** What one side (local or target spec) of a relocation computes: libbpf's val, field_sz, type_id, validate. */
interface SideValue {
  val: number;
  /** BYTE_OFFSET of a non-bitfield field: the size a load/store of it has (arrays: the element's). */
  size: number;
  /** The field's type (for the memory-size adjustment check), 0 when size is 0. */
  typeId: number;
  validate: boolean;
}

const POISON = 'poison' as const;

/** The element type under any number of array levels (libbpf's loop before btf__resolve_size). */
function stripArrays(btf: Btf, id: number): number {
  let s = skip(btf, id);
  for (let n = 0; s.t?.kind === 'array' && n < 32; n++) s = skip(btf, s.t.type);
  return s.id;
}

/** bpf_core_calc_field_relo. */
function calcField(kind: number, spec: CoreSpec | undefined): SideValue | typeof POISON {
  if (kind === BPF_CORE.FIELD_EXISTS) return { val: spec ? 1 : 0, size: 0, typeId: 0, validate: true };
  if (!spec) return POISON;
  const acc = spec.spec[spec.spec.length - 1]!;
  const btf = spec.btf;
  if (acc.name === undefined) {
    if (kind === BPF_CORE.FIELD_BYTE_OFFSET) return { val: spec.bitOffset / 8, size: btf.sizeOf(stripArrays(btf, acc.typeId)), typeId: acc.typeId, validate: true };
    if (kind === BPF_CORE.FIELD_BYTE_SIZE) return { val: btf.sizeOf(acc.typeId), size: 0, typeId: 0, validate: true };
    throw new CoreReloError(`relo ${kind} can't be applied to array access`);
  }
  const t = btf.type(acc.typeId);
  if (!isComposite(t)) throw new CoreReloError('field accessor on a non-composite type');
  const m = t.members[acc.idx]!;
  const mt = skip(btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number, byteOff: number;
  if (bitfield) {
    byteSz = btf.sizeOf(mt.id);
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    // The smallest load that holds the whole bitfield.
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new CoreReloError(`relo ${kind} can't be satisfied for bitfield`);
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = btf.sizeOf(mt.id);
    byteOff = bitOff / 8;
    bitSz = byteSz * 8;
  }
  // For a bitfield every relocatable aspect may legitimately differ from clang's: not validated,
  // except signedness and the right shift, which are never ambiguous.
  const validate = !bitfield;
  switch (kind) {
    case BPF_CORE.FIELD_BYTE_OFFSET:
      return bitfield ? { val: byteOff, size: 0, typeId: 0, validate } : { val: byteOff, size: btf.sizeOf(stripArrays(btf, mt.id)), typeId: mt.id, validate };
    case BPF_CORE.FIELD_BYTE_SIZE:
      return { val: byteSz, size: 0, typeId: 0, validate };
    case BPF_CORE.FIELD_SIGNED: {
      const signed = (isAnyEnum(mt.t) && mt.t.signed) || (mt.t?.kind === 'int' && (mt.t.encoding & BTF_INT.SIGNED) !== 0);
      return { val: signed ? 1 : 0, size: 0, typeId: 0, validate: true };
    }
    case BPF_CORE.FIELD_LSHIFT_U64:
      return { val: 64 - (bitOff + bitSz - byteOff * 8), size: 0, typeId: 0, validate };
    case BPF_CORE.FIELD_RSHIFT_U64:
      return { val: 64 - bitSz, size: 0, typeId: 0, validate: true };
    default:
      throw new CoreReloError(`unrecognized CO-RE relocation ${BPF_CORE_KIND_STR[kind] ?? kind} (${kind})`);
  }
}

/** bpf_core_calc_type_relo: a type that does not exist gives 0 (never a poison). */
function calcType(kind: number, spec: CoreSpec | undefined): SideValue {
  // The target type id may be renumbered by linking: pointless to check it against the instruction.
  const validate = kind !== BPF_CORE.TYPE_ID_TARGET;
  if (!spec) return { val: 0, size: 0, typeId: 0, validate };
  switch (kind) {
    case BPF_CORE.TYPE_ID_TARGET:
      return { val: spec.rootTypeId, size: 0, typeId: 0, validate };
    case BPF_CORE.TYPE_EXISTS: case BPF_CORE.TYPE_MATCHES:
      return { val: 1, size: 0, typeId: 0, validate };
    case BPF_CORE.TYPE_SIZE:
      return { val: spec.btf.sizeOf(spec.rootTypeId), size: 0, typeId: 0, validate };
    default:
      throw new CoreReloError(`unrecognized CO-RE relocation ${BPF_CORE_KIND_STR[kind] ?? kind} (${kind})`);
  }
}

/** bpf_core_calc_enumval_relo: a 32-bit enumerator's value is sign-extended (libbpf stores its s32). */
function calcEnumval(kind: number, spec: CoreSpec | undefined): SideValue | typeof POISON {
  if (kind === BPF_CORE.ENUMVAL_EXISTS) return { val: spec ? 1 : 0, size: 0, typeId: 0, validate: true };
  if (!spec) return POISON;
  const t = spec.btf.type(spec.spec[0]!.typeId);
  if (!isAnyEnum(t)) throw new CoreReloError('enumerator relocation against a non-enum');
  const v = t.values[spec.spec[0]!.idx]!.value;
  return { val: Number(t.kind === 'enum' ? BigInt.asIntN(32, v) : BigInt.asUintN(64, v)), size: 0, typeId: 0, validate: true };
}

function calcSide(kind: number, spec: CoreSpec | undefined): SideValue | typeof POISON {
  if (isFieldKind(kind)) return calcField(kind, spec);
  if (isEnumvalKind(kind)) return calcEnumval(kind, spec);
  return calcType(kind, spec);
}

/**
 * bpf_core_calc_relo for one candidate (or none): the local side gives the original value and
 * `validate`, the target side the new value. A load/store may change size only for pointers and
 * unsigned integers (zero extension keeps the value): otherwise `failMemszAdjust`, which poisons
 * an LDX/ST/STX (and is ignored by other instructions).
 */
function calcRelo(kind: number, local: CoreSpec, targ: CoreSpec | undefined): CoreReloResult {
  const o = calcSide(kind, local);
  if (o === POISON) throw new CoreReloError('the program\'s own BTF does not resolve its relocation');
  const n = calcSide(kind, targ);
  const r: CoreReloResult = { origVal: o.val, newVal: 0, poison: n === POISON, validate: o.validate, origSize: o.size, newSize: 0, failMemszAdjust: false };
  if (targ) r.targetSpec = targ;
  if (n === POISON) return r;
  r.newVal = n.val;
  r.newSize = n.size;
  if (isFieldKind(kind) && o.size !== n.size) {
    const ot = local.btf.type(o.typeId), nt = targ?.btf.type(n.typeId);
    const unsignedInt = (x: BtfType | undefined): boolean => x?.kind === 'int' && x.encoding !== BTF_INT.SIGNED;
    r.failMemszAdjust = !((ot?.kind === 'ptr' && nt?.kind === 'ptr') || (unsignedInt(ot) && unsignedInt(nt)));
  }
  return r;
}

/** bpf_core_find_cands: target types of the local root's kind (enum and enum64 mix) and essential name. */
export function bpf_core_find_cands(local: Btf, localId: number, target: Btf): number[] {
  const lt = local.type(localId);
  if (!lt || lt.name === '') throw new CoreReloError(`relocation doesn't support anonymous types ([${localId}])`);
  const want = essentialName(lt.name);
  const out: number[] = [];
  for (const t of target.types) {
    if (!t || t.name === '') continue;
    if (kindCoreCompat(t, lt) && essentialName(t.name) === want) out.push(t.id);
  }
  return out;
}

/**
 * bpf_core_calc_relo_insn: what relocation `relo` of a program whose BTF is `local` resolves to
 * in `target`. Every matching candidate must reach the same bit offset and the same decision and
 * value (libbpf's "ambiguity" errors otherwise); no candidate: the kind's "does not exist" value
 * (0 for the *_EXISTS and type-based kinds) or a poison (the other field and enumerator kinds).
 */
export function bpf_core_calc_relo(local: Btf, relo: CoreRelo, target: Btf): CoreReloResult {
  const kind = relo.kind;
  const lspec = bpf_core_parse_spec(local, relo.typeId, relo.accessStr, kind);
  // The local type id can change with linking: never validated, never searched for.
  if (kind === BPF_CORE.TYPE_ID_LOCAL) return { origVal: lspec.rootTypeId, newVal: lspec.rootTypeId, poison: false, validate: false, origSize: 0, newSize: 0, failMemszAdjust: false };
  let chosen: CoreReloResult | undefined;
  for (const cand of bpf_core_find_cands(local, relo.typeId, target)) {
    const s = bpf_core_spec_match(lspec, kind, target, cand);
    if (!s) continue;
    const r = calcRelo(kind, lspec, s);
    if (!chosen) {
      chosen = r;
    } else if (s.bitOffset !== chosen.targetSpec!.bitOffset) {
      throw new CoreReloError(`field offset ambiguity: ${s.bitOffset} != ${chosen.targetSpec!.bitOffset}`);
    } else if (r.poison !== chosen.poison || r.newVal !== chosen.newVal) {
      const d = (x: CoreReloResult): string => `${x.poison ? 'failure' : 'success'} ${x.newVal}`;
      throw new CoreReloError(`relocation decision ambiguity: ${d(r)} != ${d(chosen)}`);
    }
  }
  return chosen ?? calcRelo(kind, lspec, undefined);
}
