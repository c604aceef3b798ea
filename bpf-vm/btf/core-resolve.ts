// CO-RE: what one relocation (core-relos.ts) resolves to against a target BTF (vxo's kernel BTF),
// by libbpf's rules (src/relo_core.c): the local spec is parsed from the access string; candidates
// are the target types of the same kind whose essential name (before `___`) equals the local one;
// a field path is matched member by member by name, descending into anonymous members, with
// compatible member types; the value is computed for the local spec (what clang wrote) and for the
// target's. No match: the *_EXISTS kinds (and TYPE_ID_TARGET) give 0, every other kind poisons the
// instruction (libbpf rewrites it into a call that fails verification only if reached).
//
// This computes values only; patching the instruction (ALU imm, LDX/ST/STX off and size, LD_IMM64)
// is the loader's (libbpf's bpf_core_patch_insn), as is the error message naming program and insn.
import type { Btf } from './btf.ts';
import { BTF_INT } from './btf-encode.ts';
import { BPF_CORE, type CoreRelo } from './core-relos.ts';
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
  /** Field loads/stores: the field's size in the program and in the target (the loader adjusts the access size). */
  origSize?: number;
  newSize?: number;
  /** The access with its target path, for logs: `struct tcp_sock.rx_opt.snd_wscale` style raw spec. */
  targetSpec?: CoreSpec;
  /** Field relocations may be validated against the instruction (libbpf's `validate`): not for bitfields. */
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

/** bpf_core_essential_name_len: `tcp_sock___local` is a flavour of `tcp_sock`. */
export function essentialName(name: string): string {
  const i = name.indexOf('___');
  return i < 0 ? name : name.slice(0, i);
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

/** bpf_core_types_are_compat: type-based relocations, and a kfunc extern's prototype against the kernel's. */
export function bpf_core_types_are_compat(lb: Btf, lid: number, tb: Btf, tid: number): boolean {
  return typesAreCompat(lb, lid, tb, tid);
}

function typesAreCompat(lb: Btf, lid: number, tb: Btf, tid: number, depth = 0): boolean {
  if (depth > 32) return false;
  const l = skip(lb, lid), r = skip(tb, tid);
  if (!l.t || !r.t) return !l.t && !r.t;
  if (l.t.kind !== r.t.kind && !(isAnyEnum(l.t) && isAnyEnum(r.t))) return false;
  switch (l.t.kind) {
    case 'struct': case 'union': case 'enum': case 'enum64': case 'fwd':
      return true;
    case 'int':
      return l.t.bitOffset === 0 && r.t.kind === 'int' && r.t.bitOffset === 0;
    case 'ptr':
      return r.t.kind === 'ptr' && typesAreCompat(lb, l.t.type, tb, r.t.type, depth + 1);
    case 'array':
      return r.t.kind === 'array' && typesAreCompat(lb, l.t.type, tb, r.t.type, depth + 1);
    case 'func_proto': {
      if (r.t.kind !== 'func_proto' || l.t.params.length !== r.t.params.length) return false;
      const rp = r.t.params;
      if (!l.t.params.every((p, i) => typesAreCompat(lb, p.type, tb, rp[i]!.type, depth + 1))) return false;
      return typesAreCompat(lb, l.t.returnType, tb, r.t.returnType, depth + 1);
    }
    default:
      return false;
  }
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
  if (isTypeKind(kind)) return typesAreCompat(local.btf, local.rootTypeId, tb, targId) ? spec : undefined;
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

interface FieldValue { val: number; size?: number; validate: boolean }

/** bpf_core_calc_field_relo. */
function calcField(kind: number, spec: CoreSpec | undefined): FieldValue | undefined {
  if (kind === BPF_CORE.FIELD_EXISTS) return { val: spec ? 1 : 0, validate: true };
  if (!spec) return undefined;
  const acc = spec.spec[spec.spec.length - 1]!;
  if (acc.name === undefined) {
    const sz = spec.btf.sizeOf(acc.typeId);
    if (kind === BPF_CORE.FIELD_BYTE_OFFSET) return { val: spec.bitOffset / 8, size: sz, validate: true };
    if (kind === BPF_CORE.FIELD_BYTE_SIZE) return { val: sz, validate: true };
    throw new CoreReloError('relocation can\'t be applied to array access');
  }
  const t = spec.btf.type(acc.typeId);
  if (!isComposite(t)) throw new CoreReloError('field accessor on a non-composite type');
  const m = t.members[acc.idx]!;
  const mt = skip(spec.btf, m.type);
  const bitOff = spec.bitOffset;
  let bitSz = m.bitfieldSize;
  const bitfield = bitSz > 0;
  let byteSz: number, byteOff: number;
  if (bitfield) {
    byteSz = spec.btf.sizeOf(mt.id);
    byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    while (bitOff + bitSz - byteOff * 8 > byteSz * 8) {
      if (byteSz >= 8) throw new CoreReloError('bitfield can\'t be read with a 64-bit load');
      byteSz *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSz) * byteSz;
    }
  } else {
    byteSz = spec.btf.sizeOf(mt.id);
    byteOff = bitOff / 8;
    bitSz = byteSz * 8;
  }
  switch (kind) {
    case BPF_CORE.FIELD_BYTE_OFFSET:
      return bitfield ? { val: byteOff, validate: false } : { val: byteOff, size: byteSz, validate: true };
    case BPF_CORE.FIELD_BYTE_SIZE:
      return { val: byteSz, validate: !bitfield };
    case BPF_CORE.FIELD_SIGNED: {
      const signed = (isAnyEnum(mt.t) && mt.t.signed) || (mt.t?.kind === 'int' && (mt.t.encoding & BTF_INT.SIGNED) !== 0);
      return { val: signed ? 1 : 0, validate: true };
    }
    case BPF_CORE.FIELD_LSHIFT_U64:
      return { val: 64 - (bitOff + bitSz - byteOff * 8), validate: !bitfield };
    case BPF_CORE.FIELD_RSHIFT_U64:
      return { val: 64 - bitSz, validate: true };
    default:
      throw new CoreReloError(`unknown field relocation kind ${kind}`);
  }
}

function calcOther(kind: number, spec: CoreSpec | undefined, local: CoreSpec): number | undefined {
  switch (kind) {
    case BPF_CORE.TYPE_ID_LOCAL:
      return local.rootTypeId;
    case BPF_CORE.TYPE_ID_TARGET:
      return spec ? spec.rootTypeId : 0;
    case BPF_CORE.TYPE_EXISTS: case BPF_CORE.TYPE_MATCHES:
      return spec ? 1 : 0;
    case BPF_CORE.TYPE_SIZE:
      return spec ? spec.btf.sizeOf(spec.rootTypeId) : undefined;
    case BPF_CORE.ENUMVAL_EXISTS:
      return spec ? 1 : 0;
    case BPF_CORE.ENUMVAL_VALUE: {
      if (!spec) return undefined;
      const t = spec.btf.type(spec.spec[0]!.typeId);
      return isAnyEnum(t) ? Number(t.values[spec.spec[0]!.idx]!.value) : undefined;
    }
    default:
      throw new CoreReloError(`unknown CO-RE relocation kind ${kind}`);
  }
}

/** bpf_core_find_cands: target types of the local root's kind (enum and enum64 mix) and essential name. */
export function bpf_core_find_cands(local: Btf, localId: number, target: Btf): number[] {
  const lt = local.type(localId);
  if (!lt || lt.name === '') throw new CoreReloError(`CO-RE relocation against an anonymous type [${localId}]`);
  const want = essentialName(lt.name);
  const out: number[] = [];
  for (const t of target.types) {
    if (!t || t.name === '') continue;
    const sameKind = t.kind === lt.kind || (isAnyEnum(t) && isAnyEnum(lt));
    if (sameKind && essentialName(t.name) === want) out.push(t.id);
  }
  return out;
}

/**
 * bpf_core_calc_relo over every candidate: what relocation `relo` of a program whose BTF is `local`
 * resolves to in `target`. Candidates that match must agree (libbpf's "ambiguous" error otherwise).
 */
export function bpf_core_calc_relo(local: Btf, relo: CoreRelo, target: Btf): CoreReloResult {
  const kind = relo.kind;
  const lspec = bpf_core_parse_spec(local, relo.typeId, relo.accessStr, kind);
  if (kind === BPF_CORE.TYPE_ID_LOCAL) return { origVal: lspec.rootTypeId, newVal: lspec.rootTypeId, poison: false, validate: false };
  const root = local.skipQualifiers(relo.typeId);
  const matches: CoreSpec[] = [];
  for (const cand of bpf_core_find_cands(local, root, target)) {
    const s = bpf_core_spec_match(lspec, kind, target, cand);
    if (s) matches.push(s);
  }
  const orig = isFieldKind(kind) ? calcField(kind, lspec) : undefined;
  const origVal = isFieldKind(kind) ? orig!.val : (calcOther(kind, lspec, lspec) ?? 0);
  let chosen: CoreReloResult | undefined;
  for (const s of matches) {
    const r = result(kind, lspec, s, origVal, orig);
    if (chosen && (chosen.newVal !== r.newVal || chosen.poison !== r.poison)) {
      throw new CoreReloError(`relocation is ambiguous: ${target.nameOf(chosen.targetSpec!.rootTypeId)} gives ${chosen.newVal}, [${s.rootTypeId}] gives ${r.newVal}`);
    }
    chosen ??= r;
  }
  return chosen ?? result(kind, lspec, undefined, origVal, orig);
}

function result(kind: number, lspec: CoreSpec, tspec: CoreSpec | undefined, origVal: number, orig: FieldValue | undefined): CoreReloResult {
  const v = isFieldKind(kind) ? calcField(kind, tspec) : undefined;
  const newVal = isFieldKind(kind) ? v?.val : calcOther(kind, tspec, lspec);
  const r: CoreReloResult = { origVal, newVal: newVal ?? 0, poison: newVal === undefined, validate: orig?.validate ?? false };
  if (orig?.size !== undefined) r.origSize = orig.size;
  if (v?.size !== undefined) r.newSize = v.size;
  if (tspec) r.targetSpec = tspec;
  return r;
}
