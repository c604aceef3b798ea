// A BTF writer: type records appended one by one (each call returns the new type's id), strings
// deduplicated, and a .BTF blob (struct btf_header, type section, string section; little-endian,
// include/uapi/linux/btf.h) that the kernel, libbpf (bpftool btf dump file) and btf.ts accept.
// The records are the parser's own shapes (types.ts), so parse(encode(x)) gives x back.
import { BTF_KIND, BTF_MAGIC, type BtfType } from './types.ts';

const HEADER_SIZE = 24;

/** BTF_INT_ENCODING bits. */
export const BTF_INT = { SIGNED: 1 << 0, CHAR: 1 << 1, BOOL: 1 << 2 } as const;
/** btf_func_linkage. */
export const BTF_FUNC = { STATIC: 0, GLOBAL: 1, EXTERN: 2 } as const;

/** A record without the fields the writer assigns (id, at). */
export type BtfTypeInput = BtfType extends infer T ? (T extends BtfType ? Omit<T, 'id' | 'at'> : never) : never;

const utf8 = new TextEncoder();

export class BtfWriter {
  private readonly records: BtfTypeInput[] = [];
  private readonly reserved = new Set<number>();
  private readonly strOffsets = new Map<string, number>([['', 0]]);
  private readonly strParts: Uint8Array[] = [new Uint8Array(1)];
  private strLen = 1;

  /** The number of types added (the last id). */
  get count(): number {
    return this.records.length;
  }

  /** Appends a type; returns its id (1-based; forward references to later ids are fine). */
  add(t: BtfTypeInput): number {
    this.records.push(t);
    return this.records.length;
  }

  /** Reserves the next id for a type filled in later with set(): how a struct that points at itself gets its id. */
  reserve(): number {
    this.records.push({ kind: 'fwd', name: '', union: false });
    this.reserved.add(this.records.length);
    return this.records.length;
  }

  /** Fills in a reserved id. */
  set(id: number, t: BtfTypeInput): void {
    if (!this.reserved.delete(id)) throw new RangeError(`BTF type id ${id} was not reserved`);
    this.records[id - 1] = t;
  }

  private str(s: string): number {
    const known = this.strOffsets.get(s);
    if (known !== undefined) return known;
    const bytes = utf8.encode(s);
    const off = this.strLen;
    const part = new Uint8Array(bytes.length + 1);
    part.set(bytes);
    this.strParts.push(part);
    this.strLen += part.length;
    this.strOffsets.set(s, off);
    return off;
  }

  /** The raw .BTF blob. */
  encode(): Uint8Array {
    if (this.reserved.size > 0) throw new RangeError(`BTF type ids reserved but never set: ${[...this.reserved].join(', ')}`);
    const words: number[] = [];
    const head = (name: string, kind: number, vlen: number, kindFlag: boolean, sizeOrType: number): void => {
      words.push(this.str(name), ((kindFlag ? 1 : 0) << 31 | (kind << 24) | (vlen & 0xffff)) >>> 0, sizeOrType >>> 0);
    };
    for (const t of this.records) {
      switch (t.kind) {
        case 'int':
          head(t.name, BTF_KIND.INT, 0, false, t.size);
          words.push(((t.encoding << 24) | (t.bitOffset << 16) | t.bits) >>> 0);
          break;
        case 'float':
          head(t.name, BTF_KIND.FLOAT, 0, false, t.size);
          break;
        case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': {
          const kind = { ptr: BTF_KIND.PTR, typedef: BTF_KIND.TYPEDEF, volatile: BTF_KIND.VOLATILE, const: BTF_KIND.CONST, restrict: BTF_KIND.RESTRICT, type_tag: BTF_KIND.TYPE_TAG }[t.kind];
          head(t.name, kind, 0, false, t.type);
          break;
        }
        case 'array':
          head(t.name, BTF_KIND.ARRAY, 0, false, 0);
          words.push(t.type, t.indexType, t.nelems);
          break;
        case 'struct': case 'union': {
          // kind_flag packs bitfield sizes into the offset word; needed as soon as one member is a bitfield.
          const kindFlag = t.members.some((mb) => mb.bitfieldSize !== 0);
          head(t.name, t.kind === 'struct' ? BTF_KIND.STRUCT : BTF_KIND.UNION, t.members.length, kindFlag, t.size);
          for (const mb of t.members) words.push(this.str(mb.name), mb.type, kindFlag ? ((mb.bitfieldSize << 24) | mb.bitOffset) >>> 0 : mb.bitOffset);
          break;
        }
        case 'enum':
          head(t.name, BTF_KIND.ENUM, t.values.length, t.signed, t.size);
          for (const v of t.values) words.push(this.str(v.name), Number(BigInt.asUintN(32, v.value)));
          break;
        case 'enum64':
          head(t.name, BTF_KIND.ENUM64, t.values.length, t.signed, t.size);
          for (const v of t.values) {
            const u = BigInt.asUintN(64, v.value);
            words.push(this.str(v.name), Number(u & 0xffff_ffffn), Number(u >> 32n));
          }
          break;
        case 'fwd':
          head(t.name, BTF_KIND.FWD, 0, t.union, 0);
          break;
        case 'func':
          head(t.name, BTF_KIND.FUNC, t.linkage, false, t.type);
          break;
        case 'func_proto':
          head(t.name, BTF_KIND.FUNC_PROTO, t.params.length, false, t.returnType);
          for (const p of t.params) words.push(this.str(p.name), p.type);
          break;
        case 'var':
          head(t.name, BTF_KIND.VAR, 0, false, t.type);
          words.push(t.linkage);
          break;
        case 'datasec':
          head(t.name, BTF_KIND.DATASEC, t.vars.length, false, t.size);
          for (const v of t.vars) words.push(v.type, v.offset, v.size);
          break;
        case 'decl_tag':
          head(t.name, BTF_KIND.DECL_TAG, 0, false, t.type);
          words.push(t.componentIdx >>> 0);
          break;
      }
    }
    const typeLen = words.length * 4;
    const out = new Uint8Array(HEADER_SIZE + typeLen + this.strLen);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, BTF_MAGIC, true);
    dv.setUint8(2, 1);
    dv.setUint8(3, 0);
    dv.setUint32(4, HEADER_SIZE, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, typeLen, true);
    dv.setUint32(16, typeLen, true);
    dv.setUint32(20, this.strLen, true);
    for (let i = 0; i < words.length; i++) dv.setUint32(HEADER_SIZE + i * 4, words[i]!, true);
    let at = HEADER_SIZE + typeLen;
    for (const part of this.strParts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
