// Loads and stores through BTF-typed pointers (the kernel's check_ptr_to_btf_access): a constant,
// non-negative offset into the struct, never a write, and the field found by the kernel's walk
// (btf_struct_access): a scalar of the load's size, or a pointer member, which becomes a BTF pointer
// to its pointee. The kernel rewrites these loads as BPF_PROBE_MEM (a NULL or faulting base reads 0),
// which is why a walked pointer may be used without a NULL check; vxo's run time does the same for
// the loads whose facts say 'btf'. Each accepted load is noted for the run time (VerifyResult.btfReads):
// the fields a struct's view must hold.
import { btf_struct_access } from '../btf/btf-struct-access.ts';
import { kernelBtf } from '../btf/kernel-btf.ts';
import type { Env } from './env.ts';
import { invalid, reject, Reject } from './env-types.ts';
import { BTF_FLAG, ptrReg, regTypeStr, scalarReg, type Reg } from './reg-state.ts';
import { isConst, unknownOfSize, unknownSigned } from './scalar.ts';
import { tnumToString } from './tnum.ts';

const EINVAL = 22;

/**
 * Pointer members the kernel trusts as RCU-protected and possibly NULL when read from a trusted or
 * RCU pointer to their struct (BTF_TYPE_SAFE_RCU_OR_NULL): `skb->sk` of bpf_cast_to_kern_ctx's sk_buff.
 */
const RCU_OR_NULL_MEMBERS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['sk_buff', new Set(['sk'])],
  ['request_sock', new Set(['sk'])],
]);

const structName = (id: number): string => kernelBtf().btf.type(id)?.name ?? '';

export interface BtfAccess {
  regno: number;
  /** The instruction's offset. */
  off: number;
  size: number;
  write: boolean;
  signed?: boolean;
}

/** check_ptr_to_btf_access for a `ptr_` register: what a load yields (undefined for a store, which fails). */
export function checkPtrToBtfAccess(env: Env, r: Reg, a: BtfAccess): Reg {
  const tname = structName(r.btfId);
  const off = r.off + a.off;
  if (!env.gplCompatible) invalid(`Cannot access kernel 'struct ${tname}' from non-GPL compatible program`);
  if (off < 0) reject(`R${a.regno} is ptr_${tname} invalid negative access: off=${off}`);
  if (!isConst(r.s) || r.s.t.value !== 0n) {
    reject(`R${a.regno} is ptr_${tname} invalid variable offset: off=${off}, var_off=${tnumToString(r.s.t)}`);
  }
  // tc and XDP hand writes to their btf_struct_access hook, which allows only nf_conn's mark.
  if (a.write) reject('only read is supported');
  const res = btf_struct_access(kernelBtf().btf, r.btfId, off, a.size);
  switch (res.kind) {
    case 'error':
      // The kernel's __btf_name_by_offset calls an anonymous struct "(anon)".
      throw new Reject(res.errno === EINVAL ? 'EINVAL' : 'EACCES', res.message.replace(/struct {2}/g, 'struct (anon) ').replace("Type ''", "Type '(anon)'"));
    case 'scalar':
      env.noteBtfRead(r.btfId, off, a.size);
      return scalarReg(a.signed === true && a.size < 8 ? unknownSigned(a.size) : unknownOfSize(a.size));
    case 'ptr': {
      env.noteBtfRead(r.btfId, off, a.size);
      // A pointer to something other than a struct (a byte buffer, a struct vxo only declares):
      // read-only memory of unknown size, every load of which is a PROBE_MEM load.
      if (res.btfId === 0) return ptrReg('rdonly_untrusted_mem');
      const untrusted = (r.flags & BTF_FLAG.PTR_UNTRUSTED) !== 0;
      if (!untrusted && RCU_OR_NULL_MEMBERS.get(tname)?.has(res.member) === true) {
        return ptrReg('ptr_or_null_', { btfId: res.btfId, flags: BTF_FLAG.MEM_RCU, id: env.newId() });
      }
      // Every other pointer found by walking a struct is untrusted (6.18): it may be read through,
      // and passed where any BTF pointer goes, never to a kfunc that needs a trusted argument.
      return ptrReg('ptr_', { btfId: res.btfId, flags: BTF_FLAG.PTR_UNTRUSTED });
    }
  }
}

/**
 * A load or store through PTR_TO_MEM | MEM_RDONLY | PTR_UNTRUSTED: any offset may be read (the
 * kernel does not bound it: the load is a PROBE_MEM one), nothing written.
 */
export function checkRdonlyUntrustedAccess(r: Reg, a: BtfAccess): Reg {
  if (a.write) reject(`R${a.regno} cannot write into ${regTypeStr(r)}`);
  return scalarReg(a.signed === true && a.size < 8 ? unknownSigned(a.size) : unknownOfSize(a.size));
}
