// Parses a BTF blob (the `.BTF` section clang emits) into type records and answers the questions
// an object loader asks: a type's size, a printable name, a DATASEC by name. Every malformed field
// is an ElfError naming the section and the byte offset inside it; nothing recurses, so a hostile
// chain of types can neither loop forever nor overflow the stack.
import { ElfError } from '../errors.ts';
import {
  BTF_KIND,
  BTF_MAGIC,
  type BtfDatasec,
  type BtfMember,
  type BtfType,
} from './types.ts';

const HEADER_SIZE = 24;
const TYPE_SIZE = 12;
/** BTF_MAX_TYPE: ids are 20-bit in the kernel's encoding. */
const MAX_TYPE_ID = 0x000fffff;
const UINT32_MAX = 0xffff_ffff;

const utf8 = new TextDecoder('utf-8');

export class Btf {
  /** Indexed by type id; slot 0 (void) is undefined. */
  readonly types: readonly (BtfType | undefined)[];
  /** The section the blob came from, for error messages. */
  readonly section: string;

  constructor(types: (BtfType | undefined)[], section: string) {
    this.types = types;
    this.section = section;
  }

  /** The record for `id`, or undefined for void (id 0). Ids are range-checked when parsing. */
  type(id: number): BtfType | undefined {
    return this.types[id];
  }

  /** The DATASEC with this name (e.g. `.maps`), if any. */
  datasec(name: string): BtfDatasec | undefined {
    for (const t of this.types) if (t?.kind === 'datasec' && t.name === name) return t;
    return undefined;
  }

  private fail(id: number, message: string): never {
    throw new ElfError(this.section, this.types[id]?.at ?? 0, `type [${id}]: ${message}`);
  }

  /**
   * Whether the function of BTF FUNC `funcId` returns a scalar: an int of at most 8 bytes or an
   * enum, past qualifiers and typedefs (the kernel's scalar_return in check_btf_func; void is not
   * one). Undefined when `funcId` is not a FUNC with a FUNC_PROTO.
   */
  funcReturnsScalar(funcId: number): boolean | undefined {
    const f = this.types[funcId];
    if (f?.kind !== 'func') return undefined;
    const proto = this.types[f.type];
    if (proto?.kind !== 'func_proto') return undefined;
    const ret = this.types[this.skipQualifiers(proto.returnType)];
    if (ret === undefined) return false;
    return (ret.kind === 'int' && ret.size <= 8) || ret.kind === 'enum' || ret.kind === 'enum64';
  }

  /** Follows typedef, const, volatile, restrict and type tags to the underlying type id. */
  skipQualifiers(id: number): number {
    const start = id;
    for (let steps = 0; steps <= this.types.length; steps++) {
      const t = this.types[id];
      if (!t) return id;
      switch (t.kind) {
        case 'typedef':
        case 'const':
        case 'volatile':
        case 'restrict':
        case 'type_tag':
          id = t.type;
          continue;
        default:
          return id;
      }
    }
    return this.fail(start, 'loop in a typedef/qualifier chain');
  }

  /** The size in bytes of the type, as the kernel resolves it. */
  sizeOf(id: number): number {
    const start = id;
    let mult = 1;
    for (let steps = 0; steps <= this.types.length; steps++) {
      const t = this.types[id];
      if (!t) return this.fail(start, 'void has no size');
      switch (t.kind) {
        case 'int':
        case 'float':
        case 'struct':
        case 'union':
        case 'enum':
        case 'enum64':
        case 'datasec':
          return this.checkSize(start, mult * t.size);
        case 'ptr':
          return this.checkSize(start, mult * 8);
        case 'array':
          mult *= t.nelems;
          if (mult > UINT32_MAX) return this.fail(start, 'size overflows 32 bits');
          id = t.type;
          continue;
        case 'typedef':
        case 'const':
        case 'volatile':
        case 'restrict':
        case 'type_tag':
        case 'var':
          id = t.type;
          continue;
        default:
          return this.fail(id, `a ${t.kind} has no size`);
      }
    }
    return this.fail(start, 'loop in a type chain');
  }

  private checkSize(id: number, size: number): number {
    if (size > UINT32_MAX) this.fail(id, 'size overflows 32 bits');
    return size;
  }

  /** A C-like name for dumps: `__u32`, `struct flow_key`, `const char *`, `__u8[6]`. */
  nameOf(id: number): string {
    const start = id;
    // Wrappers are collected outside-in and applied inside-out once the chain ends at a name.
    const wrappers: ((inner: string) => string)[] = [];
    for (let steps = 0; steps <= this.types.length; steps++) {
      const t = this.types[id];
      if (!t) return apply(wrappers, 'void');
      switch (t.kind) {
        case 'ptr':
          wrappers.push((s) => `${s} *`);
          id = t.type;
          continue;
        case 'const':
        case 'volatile':
        case 'restrict': {
          const kw = t.kind;
          wrappers.push((s) => `${kw} ${s}`);
          id = t.type;
          continue;
        }
        case 'type_tag':
          id = t.type;
          continue;
        case 'array': {
          const n = t.nelems;
          wrappers.push((s) => `${s}[${n}]`);
          id = t.type;
          continue;
        }
        case 'struct':
        case 'union':
          return apply(wrappers, `${t.kind} ${t.name || '(anon)'}`);
        case 'enum':
        case 'enum64':
          return apply(wrappers, `enum ${t.name || '(anon)'}`);
        case 'fwd':
          return apply(wrappers, `${t.union ? 'union' : 'struct'} ${t.name}`);
        case 'func_proto':
          return apply(wrappers, 'fn');
        default:
          return apply(wrappers, t.name || `(anon ${t.kind})`);
      }
    }
    return this.fail(start, 'loop in a type chain');
  }
}

function apply(wrappers: readonly ((inner: string) => string)[], base: string): string {
  let s = base;
  for (let i = wrappers.length - 1; i >= 0; i--) s = wrappers[i]!(s);
  return s;
}

/** Parses a raw BTF blob. `section` names it in errors (offsets are relative to the blob). */
export function parseBtf(blob: Uint8Array, section = '.BTF'): Btf {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const fail = (at: number, message: string): never => {
    throw new ElfError(section, at, message);
  };
  if (blob.byteLength < HEADER_SIZE) fail(blob.byteLength, `truncated: ${blob.byteLength} bytes, the header needs ${HEADER_SIZE}`);
  const magic = dv.getUint16(0, true);
  if (magic !== BTF_MAGIC) fail(0, `bad magic 0x${magic.toString(16)} (want 0x${BTF_MAGIC.toString(16)}, little-endian)`);
  const version = dv.getUint8(2);
  if (version !== 1) fail(2, `unsupported version ${version}`);
  const hdrLen = dv.getUint32(4, true);
  if (hdrLen < HEADER_SIZE || hdrLen > blob.byteLength) fail(4, `hdr_len ${hdrLen} is out of range`);
  const typeOff = dv.getUint32(8, true);
  const typeLen = dv.getUint32(12, true);
  const strOff = dv.getUint32(16, true);
  const strLen = dv.getUint32(20, true);
  const typeStart = hdrLen + typeOff;
  const strStart = hdrLen + strOff;
  if (typeOff % 4 !== 0) fail(8, `type_off ${typeOff} is not 4-byte aligned`);
  if (typeStart + typeLen > blob.byteLength) fail(12, `type section [${typeStart}, +${typeLen}) is outside the blob (${blob.byteLength} bytes)`);
  if (strStart + strLen > blob.byteLength) fail(20, `string section [${strStart}, +${strLen}) is outside the blob (${blob.byteLength} bytes)`);
  const strings = blob.subarray(strStart, strStart + strLen);

  const str = (off: number, at: number): string => {
    if (off === 0) return '';
    if (off >= strings.byteLength) return fail(at, `name offset ${off} is outside the string section (${strings.byteLength} bytes)`);
    const end = strings.indexOf(0, off);
    if (end < 0) return fail(at, `name at offset ${off} is not NUL-terminated`);
    return utf8.decode(strings.subarray(off, end));
  };

  const types: (BtfType | undefined)[] = [undefined];
  const typeEnd = typeStart + typeLen;
  let at = typeStart;
  const need = (n: number, what: string): void => {
    if (at + n > typeEnd) fail(at, `truncated ${what}: needs ${n} bytes, ${typeEnd - at} left in the type section`);
  };
  while (at < typeEnd) {
    const id = types.length;
    if (id > MAX_TYPE_ID) fail(at, `more than ${MAX_TYPE_ID} types`);
    need(TYPE_SIZE, 'type record');
    const recAt = at;
    const name = str(dv.getUint32(at, true), at);
    const info = dv.getUint32(at + 4, true);
    const sizeOrType = dv.getUint32(at + 8, true);
    at += TYPE_SIZE;
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kindFlag = info >>> 31 === 1;
    const base = { id, at: recAt, name };
    switch (kind) {
      case BTF_KIND.INT: {
        need(4, 'INT encoding');
        const enc = dv.getUint32(at, true);
        at += 4;
        types.push({ ...base, kind: 'int', size: sizeOrType, encoding: (enc >>> 24) & 0x0f, bitOffset: (enc >>> 16) & 0xff, bits: enc & 0xff });
        break;
      }
      case BTF_KIND.PTR:
        types.push({ ...base, kind: 'ptr', type: sizeOrType });
        break;
      case BTF_KIND.TYPEDEF:
        types.push({ ...base, kind: 'typedef', type: sizeOrType });
        break;
      case BTF_KIND.VOLATILE:
        types.push({ ...base, kind: 'volatile', type: sizeOrType });
        break;
      case BTF_KIND.CONST:
        types.push({ ...base, kind: 'const', type: sizeOrType });
        break;
      case BTF_KIND.RESTRICT:
        types.push({ ...base, kind: 'restrict', type: sizeOrType });
        break;
      case BTF_KIND.TYPE_TAG:
        types.push({ ...base, kind: 'type_tag', type: sizeOrType });
        break;
      case BTF_KIND.ARRAY: {
        need(12, 'ARRAY info');
        types.push({ ...base, kind: 'array', type: dv.getUint32(at, true), indexType: dv.getUint32(at + 4, true), nelems: dv.getUint32(at + 8, true) });
        at += 12;
        break;
      }
      case BTF_KIND.STRUCT:
      case BTF_KIND.UNION: {
        need(vlen * 12, 'members');
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++, at += 12) {
          const off = dv.getUint32(at + 8, true);
          members.push({
            name: str(dv.getUint32(at, true), at),
            type: dv.getUint32(at + 4, true),
            // With kind_flag the offset word packs a bitfield size above a 24-bit bit offset.
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitfieldSize: kindFlag ? off >>> 24 : 0,
          });
        }
        types.push({ ...base, kind: kind === BTF_KIND.STRUCT ? 'struct' : 'union', size: sizeOrType, members });
        break;
      }
      case BTF_KIND.ENUM: {
        need(vlen * 8, 'enum values');
        const values: { name: string; value: bigint }[] = [];
        for (let i = 0; i < vlen; i++, at += 8) {
          const v = kindFlag ? dv.getInt32(at + 4, true) : dv.getUint32(at + 4, true);
          values.push({ name: str(dv.getUint32(at, true), at), value: BigInt(v) });
        }
        types.push({ ...base, kind: 'enum', size: sizeOrType, signed: kindFlag, values });
        break;
      }
      case BTF_KIND.ENUM64: {
        need(vlen * 12, 'enum64 values');
        const values: { name: string; value: bigint }[] = [];
        for (let i = 0; i < vlen; i++, at += 12) {
          const raw = (BigInt(dv.getUint32(at + 8, true)) << 32n) | BigInt(dv.getUint32(at + 4, true));
          values.push({ name: str(dv.getUint32(at, true), at), value: kindFlag ? BigInt.asIntN(64, raw) : raw });
        }
        types.push({ ...base, kind: 'enum64', size: sizeOrType, signed: kindFlag, values });
        break;
      }
      case BTF_KIND.FWD:
        types.push({ ...base, kind: 'fwd', union: kindFlag });
        break;
      case BTF_KIND.FUNC:
        types.push({ ...base, kind: 'func', type: sizeOrType, linkage: vlen });
        break;
      case BTF_KIND.FUNC_PROTO: {
        need(vlen * 8, 'parameters');
        const params: { name: string; type: number }[] = [];
        for (let i = 0; i < vlen; i++, at += 8) params.push({ name: str(dv.getUint32(at, true), at), type: dv.getUint32(at + 4, true) });
        types.push({ ...base, kind: 'func_proto', returnType: sizeOrType, params });
        break;
      }
      case BTF_KIND.VAR: {
        need(4, 'VAR linkage');
        types.push({ ...base, kind: 'var', type: sizeOrType, linkage: dv.getUint32(at, true) });
        at += 4;
        break;
      }
      case BTF_KIND.DATASEC: {
        need(vlen * 12, 'DATASEC entries');
        const vars = [];
        for (let i = 0; i < vlen; i++, at += 12) {
          vars.push({ type: dv.getUint32(at, true), offset: dv.getUint32(at + 4, true), size: dv.getUint32(at + 8, true) });
        }
        types.push({ ...base, kind: 'datasec', size: sizeOrType, vars });
        break;
      }
      case BTF_KIND.FLOAT:
        types.push({ ...base, kind: 'float', size: sizeOrType });
        break;
      case BTF_KIND.DECL_TAG: {
        need(4, 'DECL_TAG component');
        types.push({ ...base, kind: 'decl_tag', type: sizeOrType, componentIdx: dv.getInt32(at, true) });
        at += 4;
        break;
      }
      default:
        // An unknown kind has an unknown length: nothing after it can be decoded.
        fail(recAt + 4, `type [${id}] has unknown kind ${kind}`);
    }
  }

  // Every reference must name an existing type, so later walks never meet a dangling id.
  const count = types.length;
  for (const t of types) {
    if (!t) continue;
    const check = (ref: number, what: string): void => {
      if (ref >= count) fail(t.at, `type [${t.id}] ${t.kind}: ${what} refers to type ${ref}, but there are ${count - 1}`);
    };
    switch (t.kind) {
      case 'ptr':
      case 'typedef':
      case 'volatile':
      case 'const':
      case 'restrict':
      case 'type_tag':
      case 'func':
      case 'var':
      case 'decl_tag':
        check(t.type, 'type');
        break;
      case 'array':
        check(t.type, 'element type');
        check(t.indexType, 'index type');
        break;
      case 'struct':
      case 'union':
        for (const m of t.members) check(m.type, `member ${m.name || '(anon)'}`);
        break;
      case 'func_proto':
        check(t.returnType, 'return type');
        for (const p of t.params) check(p.type, `parameter ${p.name || '(anon)'}`);
        break;
      case 'datasec':
        for (const v of t.vars) check(v.type, 'variable');
        break;
      default:
        break;
    }
  }
  return new Btf(types, section);
}
