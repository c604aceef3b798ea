// vxo's kernel BTF: the declarations of kernel-types.ts laid out as a C compiler lays them out
// (natural alignment, SysV bitfields; bpf target: 8-byte pointers and longs), encoded as a .BTF blob
// (btf-encode.ts), parsed back with btf.ts, and indexed for the work that consumes it:
//   - the loader's CO-RE relocations and kfunc externs: typeId(), btf (a parsed Btf), kfunc();
//   - the verifier's PTR_TO_BTF_ID: btf_struct_access(kernelBtf().btf, id, off, size) (btf-struct-access.ts:
//     the kernel's walk and messages), struct() and fieldAt() for the field itself;
//   - the run time: fieldAt()'s `model`, the property of vxo's object a load reads.
// Built once per process (kernelBtf()); every answer is read-only.
import { parseBtf, type Btf } from './btf.ts';
import { BTF_FUNC, BTF_INT, BtfWriter, type BtfTypeInput } from './btf-encode.ts';
import { KERNEL_DECLS, KERNEL_KFUNCS, type KAnon, type KDecl, type KFunc, type KMember } from './kernel-types.ts';
import type { BtfMember, BtfType } from './types.ts';

/** The decl tag pahole puts on kfuncs (bpftool's KFUNC_DECL_TAG). */
export const KFUNC_DECL_TAG = 'bpf_kfunc';

const PTR_SIZE = 8;

/**
 * The linkage of kfunc FUNCs. A kernel's vmlinux BTF (pahole) marks every FUNC static, kfuncs
 * included (`bpftool btf dump file /sys/kernel/btf/vmlinux`: FUNC 'bpf_sk_assign_tcp_reqsk'
 * ... linkage=static); libbpf resolves kfunc externs by name and kind, whatever the linkage.
 */
export const KFUNC_LINKAGE: number = BTF_FUNC.STATIC;

/** A scalar, pointer or array leaf of a struct, at its place in the outermost struct. */
export interface KernelField {
  /** The C access path from the outermost struct, anonymous members skipped: `__sk_common.skc_daddr`. */
  readonly path: string;
  readonly name: string;
  /** Byte offset; for a bitfield, of the byte holding its first bit. */
  readonly offset: number;
  /** Bytes (for a bitfield: of its declared type). */
  readonly size: number;
  /** Bit offset and width of a bitfield (relative to the outermost struct); undefined otherwise. */
  readonly bitOffset?: number;
  readonly bits?: number;
  /** The member's BTF type id (qualifiers and typedefs included, as declared). */
  readonly typeId: number;
  /** What the type resolves to past typedefs and qualifiers. */
  readonly kind: 'int' | 'enum' | 'ptr' | 'array';
  /** For a pointer: the pointee's id past qualifiers (0 for void); what PTR_TO_BTF_ID carries. */
  readonly pointee?: number;
  readonly signed: boolean;
  /** Declared __be16/__be32/__be64: vxo keeps the value in host order and swaps on load. */
  readonly bigEndian: boolean;
  /**
   * The property path on vxo's object (the struct's `vxo` class) this field reads: the path below
   * the embedded parent structs (sock_common in sock in inet_sock ...: vxo's classes inherit), with
   * the table's `model` overrides applied (an override on a struct member renames the prefix of its
   * fields: ipv6_pinfo.saddr.in6_u.u6_addr32 reads v6_saddr.in6_u.u6_addr32). The run time converts
   * by the root property's type (a number, a boolean for a 1-bit field, an In6Addr, an object for a
   * pointer); a root vxo does not have reads 0.
   */
  readonly model: string;
}

export interface KernelStruct {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  /** vxo's class whose objects this struct describes (kernel-types.ts), if any. */
  readonly vxo?: string;
  /** Every leaf, in declaration order (union members overlap). */
  readonly fields: readonly KernelField[];
}

export interface KernelKfunc {
  readonly spec: KFunc;
  /** The BTF FUNC's id (what a BPF_PSEUDO_KFUNC_CALL's imm holds in the kernel). */
  readonly funcId: number;
  readonly protoId: number;
}

type KindName = BtfType['kind'];

export class KernelBtf {
  /** The raw .BTF blob (what `vxo btf dump` reads and /sys/kernel/btf/vmlinux would be). */
  readonly blob: Uint8Array;
  readonly btf: Btf;
  private readonly byName = new Map<string, number[]>();
  private readonly structs = new Map<number, KernelStruct>();
  private readonly kfuncs = new Map<string, KernelKfunc>();
  private readonly kfuncIds = new Map<number, KernelKfunc>();
  private readonly vxoClass = new Map<number, string>();

  /** The table's `model` overrides, keyed `${struct or union id}:${member index}`. */
  private readonly modelOverrides: ReadonlyMap<string, string>;

  constructor(blob: Uint8Array, vxoClasses: ReadonlyMap<number, string>, modelOverrides: ReadonlyMap<string, string> = new Map()) {
    this.blob = blob;
    this.modelOverrides = modelOverrides;
    this.btf = parseBtf(blob, 'vxo kernel BTF');
    for (const [id, cls] of vxoClasses) this.vxoClass.set(id, cls);
    for (const t of this.btf.types) {
      if (!t || t.name === '') continue;
      const ids = this.byName.get(t.name) ?? [];
      ids.push(t.id);
      this.byName.set(t.name, ids);
    }
    for (const spec of KERNEL_KFUNCS) {
      const funcId = this.typeId(spec.name, 'func');
      const f = funcId === undefined ? undefined : this.btf.type(funcId);
      if (f?.kind !== 'func') throw new Error(`kernel BTF: kfunc ${spec.name} has no FUNC`);
      const k = { spec, funcId: f.id, protoId: f.type };
      this.kfuncs.set(spec.name, k);
      this.kfuncIds.set(f.id, k);
    }
  }

  /** The number of types (the highest id). */
  get typeCount(): number {
    return this.btf.types.length - 1;
  }

  /** The id of the type named `name` (of `kind` when given; the first when several share the name). */
  typeId(name: string, kind?: KindName): number | undefined {
    for (const id of this.byName.get(name) ?? []) if (kind === undefined || this.btf.type(id)?.kind === kind) return id;
    return undefined;
  }

  /** A struct or union by name or id, with its leaves laid out. */
  struct(nameOrId: string | number): KernelStruct | undefined {
    const id = typeof nameOrId === 'number' ? nameOrId : (this.typeId(nameOrId, 'struct') ?? this.typeId(nameOrId, 'union'));
    if (id === undefined) return undefined;
    const cached = this.structs.get(id);
    if (cached) return cached;
    const t = this.btf.type(id);
    if (t?.kind !== 'struct' && t?.kind !== 'union') return undefined;
    const fields: KernelField[] = [];
    this.flatten(id, t.members, 0, '', '', fields);
    const cls = this.vxoClass.get(id);
    const s: KernelStruct = cls === undefined ? { id, name: t.name, size: t.size, fields } : { id, name: t.name, size: t.size, vxo: cls, fields };
    this.structs.set(id, s);
    return s;
  }

  /**
   * The leaf an access of `size` bytes at byte `off` of struct `structId` falls in, or undefined
   * when it lies in padding, straddles fields or leaves the struct (the verifier's "access beyond
   * struct" / "invalid access" cases). Overlapping union members: the narrowest field holding the
   * whole access (skc_num for a u16 load, skc_portpair for a u32 one), the first declared on a tie.
   * A load of bitfields' storage unit returns the first bitfield in it.
   */
  fieldAt(structId: number, off: number, size: number): KernelField | undefined {
    const s = this.struct(structId);
    if (!s || off < 0 || size <= 0 || off + size > s.size) return undefined;
    let best: KernelField | undefined;
    for (const f of s.fields) {
      let holds: boolean;
      if (f.bits !== undefined) {
        const first = Math.floor(f.bitOffset! / 8), last = Math.floor((f.bitOffset! + f.bits - 1) / 8);
        holds = off <= first && off + size > last && off >= f.offset - (f.offset % f.size) && off + size <= f.offset - (f.offset % f.size) + f.size;
      } else {
        holds = off >= f.offset && off + size <= f.offset + f.size;
      }
      if (holds && (best === undefined || f.size < best.size)) best = f;
    }
    return best;
  }

  kfunc(name: string): KernelKfunc | undefined {
    return this.kfuncs.get(name);
  }

  kfuncById(funcId: number): KernelKfunc | undefined {
    return this.kfuncIds.get(funcId);
  }

  private flatten(parentId: number, members: readonly BtfMember[], baseBits: number, path: string, model: string, out: KernelField[]): void {
    for (const [i, mb] of members.entries()) {
      const bitOff = baseBits + mb.bitOffset;
      const p = mb.name === '' ? path : path === '' ? mb.name : `${path}.${mb.name}`;
      const resolved = this.btf.skipQualifiers(mb.type);
      const t = this.btf.type(resolved);
      if (t?.kind === 'struct' || t?.kind === 'union') {
        // An embedded parent (sock_common in sock ...) is the same vxo object: its fields keep their own names.
        const parent = mb.name !== '' && this.vxoClass.has(resolved) && mb === members[0] && bitOff === baseBits;
        const renamed = this.modelOverrides.get(`${parentId}:${i}`);
        const mp = renamed ?? (mb.name === '' || parent ? model : model === '' ? mb.name : `${model}.${mb.name}`);
        this.flatten(resolved, t.members, bitOff, p, mp, out);
        continue;
      }
      const override = this.modelOverrides.get(`${parentId}:${i}`);
      // Signedness and byte order of an array are its elements'.
      let elem = mb.type;
      for (let et = t; et?.kind === 'array'; et = this.btf.type(this.btf.skipQualifiers(elem))) elem = et.type;
      const e = this.btf.type(this.btf.skipQualifiers(elem));
      const field: KernelField = {
        path: p,
        name: mb.name,
        offset: Math.floor(bitOff / 8),
        size: this.btf.sizeOf(mb.type),
        ...(mb.bitfieldSize !== 0 ? { bitOffset: bitOff, bits: mb.bitfieldSize } : {}),
        typeId: mb.type,
        kind: t?.kind === 'ptr' ? 'ptr' : t?.kind === 'array' ? 'array' : t?.kind === 'enum' || t?.kind === 'enum64' ? 'enum' : 'int',
        ...(t?.kind === 'ptr' ? { pointee: this.btf.skipQualifiers(t.type) } : {}),
        signed: e?.kind === 'int' ? (e.encoding & BTF_INT.SIGNED) !== 0 : e?.kind === 'enum' || e?.kind === 'enum64' ? e.signed : false,
        bigEndian: this.isBigEndian(elem),
        model: override ?? (model === '' ? mb.name : `${model}.${mb.name}`),
      };
      out.push(field);
    }
  }

  private isBigEndian(id: number): boolean {
    for (let steps = 0; steps < 16; steps++) {
      const t = this.btf.type(id);
      if (!t) return false;
      if (t.kind === 'typedef' && /^__be(16|32|64)$/.test(t.name)) return true;
      if (t.kind !== 'typedef' && t.kind !== 'const' && t.kind !== 'volatile') return false;
      id = t.type;
    }
    return false;
  }
}

interface Built {
  writer: BtfWriter;
  vxoClasses: Map<number, string>;
  overrides: Map<string, string>;
}

/** Lays out and encodes the table. Exported for tests; use kernelBtf(). */
export function buildKernelBtf(): KernelBtf {
  const b = build();
  return new KernelBtf(b.writer.encode(), b.vxoClasses, b.overrides);
}

let cached: KernelBtf | undefined;

/** vxo's kernel BTF (built on first use). */
export function kernelBtf(): KernelBtf {
  cached ??= buildKernelBtf();
  return cached;
}

function build(): Built {
  const w = new BtfWriter();
  const decls = new Map<string, KDecl>();
  const key = (d: KDecl): string => (d.kind === 'struct' || d.kind === 'union' || d.kind === 'enum' ? `${d.kind} ${d.name}` : d.name);
  for (const d of KERNEL_DECLS) if (d.name !== '') decls.set(key(d), d);
  const ids = new Map<KDecl, number>();
  const fwds = new Map<string, number>();
  const derived = new Map<string, number>();
  // Sizes and alignments of every id built so far, in bytes.
  const size = new Map<number, number>([[0, 0]]);
  const align = new Map<number, number>([[0, 1]]);
  const vxoClasses = new Map<number, string>();
  const overrides = new Map<string, string>();

  // Structs reached only through a pointer get their id now and their members later: how
  // sock_common can point at struct sock, which embeds sock_common.
  const pending = new Set<KDecl>();
  const lookup = (name: string, shallow = false): number => {
    const d = decls.get(name);
    if (d && shallow && (d.kind === 'struct' || d.kind === 'union') && !ids.has(d)) {
      const id = w.reserve();
      ids.set(d, id);
      pending.add(d);
      return id;
    }
    if (d) return declId(d);
    const fwd = /^(struct|union) (\w+)$/.exec(name);
    if (!fwd) throw new Error(`kernel-types: unknown type '${name}'`);
    let id = fwds.get(name);
    if (id === undefined) {
      id = w.add({ kind: 'fwd', name: fwd[2]!, union: fwd[1] === 'union' });
      fwds.set(name, id);
    }
    return id;
  };

  const derive = (k: string, make: () => BtfTypeInput, sz: number, al: number): number => {
    let id = derived.get(k);
    if (id === undefined) {
      id = w.add(make());
      derived.set(k, id);
      size.set(id, sz);
      align.set(id, al);
    }
    return id;
  };

  const expr = (s: string, shallow = false): number => {
    s = s.trim();
    const arr = /^(.*)\[(\d+)\]$/.exec(s);
    if (arr) {
      const elem = expr(arr[1]!);
      const n = Number(arr[2]);
      return derive(`${elem}[${n}]`, () => ({ kind: 'array', name: '', type: elem, indexType: lookup('int'), nelems: n }), need(size, elem, s) * n, need(align, elem, s));
    }
    if (s.endsWith('*')) {
      const inner = expr(s.slice(0, -1), true);
      return derive(`${inner}*`, () => ({ kind: 'ptr', name: '', type: inner }), PTR_SIZE, PTR_SIZE);
    }
    const q = /^(const|volatile) (.*)$/.exec(s);
    if (q) {
      const inner = expr(q[2]!, shallow);
      const kind = q[1] as 'const' | 'volatile';
      return derive(`${kind} ${inner}`, () => ({ kind, name: '', type: inner }), size.get(inner) ?? 0, align.get(inner) ?? 1);
    }
    if (s === 'void') return 0;
    return lookup(s, shallow);
  };

  const need = (m: Map<number, number>, id: number, what: string): number => {
    const v = m.get(id);
    if (v === undefined) throw new Error(`kernel-types: '${what}' needs the size of a type that is not complete yet (a struct used by value inside itself?)`);
    return v;
  };

  const composite = (kind: 'struct' | 'union', name: string, members: readonly KMember[], id: number): void => {
    const out: BtfMember[] = [];
    let pos = 0, end = 0, al = 1;
    for (const mb of members) {
      const t = typeof mb.type === 'string' ? expr(mb.type) : anon(mb.type);
      const sz = need(size, t, typeof mb.type === 'string' ? mb.type : 'anonymous member');
      const a = need(align, t, name);
      al = Math.max(al, a);
      let off: number;
      if (kind === 'union') {
        off = 0;
        end = Math.max(end, mb.bits ?? sz * 8);
      } else if (mb.bits !== undefined) {
        const unit = sz * 8;
        if (Math.floor(pos / unit) !== Math.floor((pos + mb.bits - 1) / unit)) pos = roundUp(pos, a * 8);
        off = pos;
        pos += mb.bits;
        end = pos;
      } else {
        pos = roundUp(pos, a * 8);
        off = pos;
        pos += sz * 8;
        end = pos;
      }
      out.push({ name: mb.name, type: t, bitOffset: off, bitfieldSize: mb.bits ?? 0 });
      if (mb.model !== undefined) overrides.set(`${id}:${out.length - 1}`, mb.model);
    }
    const total = roundUp(Math.ceil(end / 8), al);
    w.set(id, { kind, name, size: total, members: out });
    size.set(id, total);
    align.set(id, al);
  };

  const anon = (a: KAnon): number => {
    const id = w.reserve();
    composite(a.kind, '', a.members, id);
    return id;
  };

  const declId = (d: KDecl): number => {
    const known = ids.get(d);
    if (known !== undefined && pending.delete(d) && (d.kind === 'struct' || d.kind === 'union')) {
      if (d.vxo !== undefined) vxoClasses.set(known, d.vxo);
      composite(d.kind, d.name, d.members, known);
    }
    if (known !== undefined) return known;
    switch (d.kind) {
      case 'int': {
        const id = w.add({ kind: 'int', name: d.name, size: d.size, bitOffset: 0, bits: d.size * 8, encoding: (d.signed ? BTF_INT.SIGNED : 0) | (d.encoding === 'bool' ? BTF_INT.BOOL : 0) });
        ids.set(d, id);
        size.set(id, d.size);
        align.set(id, d.size);
        return id;
      }
      case 'typedef': {
        const id = w.reserve();
        ids.set(d, id);
        const t = typeof d.type === 'string' ? expr(d.type) : anon(d.type);
        w.set(id, { kind: 'typedef', name: d.name, type: t });
        size.set(id, need(size, t, d.name));
        align.set(id, need(align, t, d.name));
        return id;
      }
      case 'enum': {
        const id = w.add({ kind: 'enum', name: d.name, size: 4, signed: d.values.some(([, v]) => v < 0), values: d.values.map(([n, v]) => ({ name: n, value: BigInt(v) })) });
        ids.set(d, id);
        size.set(id, 4);
        align.set(id, 4);
        return id;
      }
      case 'struct':
      case 'union': {
        const id = w.reserve();
        ids.set(d, id);
        if (d.vxo !== undefined) vxoClasses.set(id, d.vxo);
        composite(d.kind, d.name, d.members, id);
        return id;
      }
    }
  };

  for (const d of KERNEL_DECLS) declId(d);

  // kfuncs: FUNC_PROTO, FUNC, DECL_TAG "bpf_kfunc" (component -1: the whole function), as pahole
  // writes them into vmlinux.
  for (const k of KERNEL_KFUNCS) {
    const proto = w.add({ kind: 'func_proto', name: '', returnType: expr(k.ret), params: k.params.map(([t, n]) => ({ name: n, type: expr(t) })) });
    const func = w.add({ kind: 'func', name: k.name, type: proto, linkage: KFUNC_LINKAGE });
    w.add({ kind: 'decl_tag', name: KFUNC_DECL_TAG, type: func, componentIdx: -1 });
  }
  return { writer: w, vxoClasses, overrides };
}

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
