// A kfunc extern (`extern int bpf_x(...) __ksym;`, a FUNC with extern linkage in the object's BTF
// and an entry of the .ksyms DATASEC) resolved against vxo's kernel BTF as libbpf resolves it
// (bpf_object__resolve_ksym_func_btf_id): by name to a kernel FUNC, its prototype compatible with
// the kernel's (bpf_core_types_are_compat). The loader then writes the call as the kernel expects:
// src_reg = BPF_PSEUDO_KFUNC_CALL, imm = the kernel FUNC's BTF id (`funcId`), off = 0 (vmlinux).
// A weak extern that does not resolve is not an error: libbpf leaves the call to fail verification
// only if it is reachable.
//
// The name looked up is the extern's essential name (bpf_core_essential_name_len), so a program
// may declare flavours of one kfunc with different prototypes (`bpf_x___v1`, `bpf_x___v2`, weak)
// and call the one whose prototype the kernel has; messages name the extern as declared.
import type { Btf } from './btf.ts';
import { bpf_core_types_are_compat, essentialName } from './core-resolve.ts';
import type { KernelBtf, KernelKfunc } from './kernel-btf.ts';

export type KsymFuncResolution =
  | { ok: true; kfunc: KernelKfunc }
  /** Unresolved weak extern: the call stays, verification fails if it is reachable. */
  | { ok: false; weak: true; message: string }
  | { ok: false; weak: false; message: string };

const BTF_FUNC_EXTERN = 2;

/** Resolves the extern FUNC `localFuncId` of `local` (an object's BTF) against `kernel`. */
export function resolveKsymFunc(local: Btf, localFuncId: number, kernel: KernelBtf, weak: boolean): KsymFuncResolution {
  const f = local.type(localFuncId);
  if (f?.kind !== 'func') return { ok: false, weak: false, message: `extern (func ksym) [${localFuncId}]: not a FUNC` };
  const name = f.name;
  if (f.linkage !== BTF_FUNC_EXTERN) return { ok: false, weak: false, message: `extern (func ksym) '${name}': FUNC is not extern` };
  const k = kernel.kfunc(essentialName(name));
  if (k === undefined) {
    const message = `extern (func ksym) '${name}': not found in kernel or module BTFs`;
    return weak ? { ok: false, weak: true, message } : { ok: false, weak: false, message };
  }
  if (!bpf_core_types_are_compat(local, f.type, kernel.btf, k.protoId)) {
    const message = `extern (func ksym) '${name}': func_proto [${f.type}] incompatible with vmlinux [${k.protoId}]`;
    return weak ? { ok: false, weak: true, message } : { ok: false, weak: false, message };
  }
  return { ok: true, kfunc: k };
}
