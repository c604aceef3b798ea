// Whether a BTF pointer may stand for another struct type (the kernel's btf_struct_ids_match): the
// same struct, or, unless the match must be strict, a struct found at the pointer's offset by
// walking down members that start exactly there. So a tcp_sock passes as an inet_connection_sock,
// an inet_sock, a sock and a sock_common (each the first member of the next), and a sock_common does
// not pass as a sock. Also the socket pointer types' structs (the kernel's reg2btf_ids).
import { kernelBtf } from '../btf/kernel-btf.ts';
import type { BtfType } from '../btf/types.ts';
import type { Reg, RegType } from './reg-state.ts';

/** reg2btf_ids: the struct a socket pointer is, for kfunc arguments. */
export const REG2BTF_STRUCT: Readonly<Partial<Record<RegType, string>>> = {
  sock: 'sock', sock_or_null: 'sock', sock_common: 'sock_common', sock_common_or_null: 'sock_common',
  tcp_sock: 'tcp_sock', tcp_sock_or_null: 'tcp_sock',
};

const isComposite = (t: BtfType | undefined): t is Extract<BtfType, { kind: 'struct' | 'union' }> =>
  t?.kind === 'struct' || t?.kind === 'union';

/** The struct id a register points to: its BTF id, or its socket type's struct; 0 for anything else. */
export function regStructId(r: Reg): number {
  if (r.type === 'ptr_' || r.type === 'ptr_or_null_') return r.btfId;
  const name = REG2BTF_STRUCT[r.type];
  return name === undefined ? 0 : (kernelBtf().typeId(name, 'struct') ?? 0);
}

/**
 * The nested struct starting exactly at byte `off` of struct `id` (the walk's WALK_STRUCT), going
 * through members that contain `off` (arrays by element); 0 when the byte is a scalar or padding.
 */
function nestedStructAt(id: number, off: number): number {
  const btf = kernelBtf().btf;
  let t = btf.type(btf.skipQualifiers(id));
  for (let depth = 0; depth < 32 && isComposite(t); depth++) {
    let next: { id: number; off: number } | undefined;
    for (const m of t.members) {
      if (m.bitfieldSize !== 0) continue;
      let moff = m.bitOffset / 8;
      let mid = btf.skipQualifiers(m.type);
      let mt = btf.type(mid);
      let size = btf.sizeOf(m.type);
      if (off < moff || off >= moff + size) continue;
      while (mt?.kind === 'array') {
        mid = btf.skipQualifiers(mt.type);
        const es = btf.sizeOf(mid);
        if (es === 0) return 0;
        moff += Math.floor((off - moff) / es) * es;
        size = es;
        mt = btf.type(mid);
      }
      if (!isComposite(mt)) return 0;
      if (off === moff) return mid;
      next = { id: mid, off: off - moff };
      break;
    }
    if (next === undefined) return 0;
    t = btf.type(next.id);
    off = next.off;
  }
  return 0;
}

/** btf_struct_ids_match over vxo's kernel BTF. */
export function btfStructIdsMatch(id: number, off: number, needId: number, strict: boolean): boolean {
  if (off === 0 && id === needId) return true;
  if (strict) return false;
  for (let depth = 0; depth < 32; depth++) {
    id = nestedStructAt(id, off);
    if (id === 0) return false;
    if (id === needId) return true;
    off = 0;
  }
  return false;
}
