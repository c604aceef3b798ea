// BTF: parsing a blob and reading BTF-defined map definitions out of it; writing BTF; vxo's kernel
// BTF (its vmlinux) and the dumps bpftool makes of BTF (raw text, vmlinux.h); CO-RE relocations and
// their values; kfunc externs; the kernel's walk of a load through a BTF pointer.
export { Btf, parseBtf } from './btf.ts';
export { btfMapDefs, type BtfMapDef } from './maps.ts';
export * from './types.ts';
export { BtfWriter, BTF_FUNC, BTF_INT, type BtfTypeInput } from './btf-encode.ts';
export { btfBytesOf, parseBtfFile } from './btf-file.ts';
export { dumpBtfRaw, dumpBtfType } from './btf-dump-raw.ts';
export { btf_struct_access, type BtfStructAccess } from './btf-struct-access.ts';
export { dumpBtfC, withoutBpftool75Additions } from './btf-dump-c.ts';
export { coreRelosBySection, BPF_CORE, BPF_CORE_KIND_STR, type CoreRelo } from './core-relos.ts';
export {
  bpf_core_calc_relo, bpf_core_find_cands, bpf_core_types_are_compat, bpf_core_parse_spec, bpf_core_spec_match, CoreReloError, essentialName,
  type CoreReloResult, type CoreSpec,
} from './core-resolve.ts';
export { resolveKsymFunc, type KsymFuncResolution } from './ksym.ts';
export { BTF_SOCK_TYPE, HELPER_RET_BTF_STRUCT, KERNEL_DECLS, KERNEL_KFUNCS, KF, type KDecl, type KFunc, type KMember, type KStruct } from './kernel-types.ts';
export {
  KernelBtf, kernelBtf, buildKernelBtf, KFUNC_DECL_TAG, KFUNC_LINKAGE,
  type KernelField, type KernelKfunc, type KernelStruct,
} from './kernel-btf.ts';
