// What a load of `size` bytes at `off` through a PTR_TO_BTF_ID pointer to struct `id` reads, by the
// kernel's rules (kernel/bpf/btf.c btf_struct_access / btf_struct_walk): a scalar, a pointer to
// another struct (the destination becomes PTR_TO_BTF_ID of it), or an error with the kernel's
// message and errno. Writes are the caller's to refuse ("only read is supported"); this is the walk
// the verifier's check_ptr_to_btf_access needs, over any BTF (vxo's kernel BTF in practice).
import type { Btf } from './btf.ts';
import type { BtfType } from './types.ts';

const EACCES = 13, EINVAL = 22, EFAULT = 14;

export type BtfStructAccess =
  /** A scalar read. */
  | { kind: 'scalar' }
  /**
   * A pointer member: `btfId` is the pointee struct; `untrusted` when it was reached through a
   * union of several members (the kernel marks such pointers PTR_UNTRUSTED). A pointer to a
   * non-struct is untrusted with btfId 0.
   */
  | { kind: 'ptr'; btfId: number; untrusted: boolean; member: string }
  | { kind: 'error'; errno: number; message: string };

type Composite = Extract<BtfType, { kind: 'struct' | 'union' }>;

const isComposite = (t: BtfType | undefined): t is Composite => t?.kind === 'struct' || t?.kind === 'union';

/** Size, innermost element type and element count of a (possibly multi-dimensional) array type. */
function resolveArray(btf: Btf, id: number): { elemId: number; elemSize: number; nelems: number } {
  let nelems = 1;
  let t = btf.type(btf.skipQualifiers(id));
  let elemId = btf.skipQualifiers(id);
  while (t?.kind === 'array') {
    nelems *= t.nelems;
    elemId = btf.skipQualifiers(t.type);
    t = btf.type(elemId);
  }
  return { elemId, elemSize: t ? btf.sizeOf(elemId) : 0, nelems };
}

type Walk =
  | { kind: 'scalar' }
  | { kind: 'struct'; id: number }
  | { kind: 'ptr'; btfId: number; member: string }
  | { kind: 'error'; errno: number; message: string };

/** btf_struct_walk: one level (WALK_STRUCT hands back a nested struct starting exactly at `off`). */
function walk(btf: Btf, startId: number, off: number, size: number, state: { untrusted: boolean }): Walk {
  let t = btf.type(btf.skipQualifiers(startId));
  for (let depth = 0; depth < 64; depth++) {
    const tname = t?.name ?? '';
    if (!isComposite(t)) return { kind: 'error', errno: EINVAL, message: `Type '${tname}' is not a struct` };
    if (t.kind === 'union' && t.members.length !== 1) state.untrusted = true;
    if (off + size > t.size) return { kind: 'error', errno: EACCES, message: `access beyond struct ${tname} at off ${off} size ${size}` };
    let next: { t: Composite; off: number } | undefined;
    for (const m of t.members) {
      let moff = Math.floor(m.bitOffset / 8);
      if (off + size <= moff) break;
      if (m.bitfieldSize !== 0) {
        const endBit = m.bitOffset + m.bitfieldSize;
        if (off <= moff && Math.ceil(endBit / 8) <= off + size) return { kind: 'scalar' };
        continue;
      }
      if (off < moff) break;
      let mid = btf.skipQualifiers(m.type);
      let mtype = btf.type(mid);
      let msize = btf.sizeOf(m.type);
      let mend = moff + msize;
      if (off >= mend) continue;
      if (mtype?.kind === 'array') {
        const a = resolveArray(btf, mid);
        if (a.nelems === 0 || a.elemSize === 0) return { kind: 'error', errno: EACCES, message: `access beyond struct ${tname} at off ${off} size ${size}` };
        const idx = Math.floor((off - moff) / a.elemSize);
        mid = a.elemId;
        mtype = btf.type(mid);
        msize = a.elemSize;
        moff += idx * a.elemSize;
        mend = moff + msize;
      }
      if (isComposite(mtype)) {
        if (off === moff) return { kind: 'struct', id: mid };
        next = { t: mtype, off: off - moff };
        break;
      }
      if (mtype?.kind === 'ptr') {
        if (msize !== size || off !== moff) {
          return { kind: 'error', errno: EACCES, message: `cannot access ptr member ${m.name} with moff ${moff} in struct ${tname} with off ${off} size ${size}` };
        }
        const target = btf.skipQualifiers(mtype.type);
        if (isComposite(btf.type(target))) return { kind: 'ptr', btfId: target, member: m.name };
        state.untrusted = true;
        return { kind: 'ptr', btfId: 0, member: m.name };
      }
      if (off + size > mend && !state.untrusted) {
        return { kind: 'error', errno: EACCES, message: `access beyond the end of member ${m.name} (mend:${mend}) in struct ${tname} with off ${off} size ${size}` };
      }
      return { kind: 'scalar' };
    }
    if (next === undefined) return { kind: 'error', errno: EINVAL, message: `struct ${tname} doesn't have field at offset ${off}` };
    t = next.t;
    off = next.off;
  }
  return { kind: 'error', errno: EFAULT, message: 'struct nesting too deep' };
}

/** btf_struct_access for a read: what the destination register becomes, or the kernel's error. */
export function btf_struct_access(btf: Btf, structId: number, off: number, size: number): BtfStructAccess {
  const state = { untrusted: false };
  let id = structId;
  for (let depth = 0; depth < 64; depth++) {
    const w = walk(btf, id, off, size, state);
    switch (w.kind) {
      case 'struct':
        id = w.id;
        off = 0;
        continue;
      case 'ptr':
        return { kind: 'ptr', btfId: w.btfId, untrusted: state.untrusted, member: w.member };
      default:
        return w;
    }
  }
  return { kind: 'error', errno: EFAULT, message: 'struct nesting too deep' };
}
