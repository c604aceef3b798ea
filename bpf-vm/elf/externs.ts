// Extern symbols of an object (libbpf's bpf_object__collect_externs): undefined ELF symbols
// (SHN_UNDEF, STB_GLOBAL or STB_WEAK, STT_NOTYPE) described by a FUNC or VAR of extern linkage in
// the object's BTF and listed in a `.ksyms` or `.kconfig` DATASEC. vxo resolves one kind, the kfunc
// (`extern int f(...) __ksym;`), against its kernel BTF; `.kconfig` values and typed/typeless ksym
// variables need a kernel image's symbols and are refused (EOPNOTSUPP) naming the symbol.
//
// libbpf numbers externs after sorting them (cmp_externs: .kconfig ones first, then by name); an
// unresolved weak kfunc's call is poisoned with that number, so the index here follows the same order.
import type { Btf } from '../btf/btf.ts';
import type { KernelBtf } from '../btf/kernel-btf.ts';
import { resolveKsymFunc } from '../btf/ksym.ts';
import { BpfError, ElfError } from '../errors.ts';
import { SHN_UNDEF, STB, STT, type ElfFile, type ElfSymbol } from './reader.ts';

/** libbpf's POISON_CALL_KFUNC_BASE: an unresolved weak kfunc's call becomes helper call base + extern index. */
export const POISON_CALL_KFUNC_BASE = 2002000000;

/** What a call to an extern becomes in the loaded program. */
export type KsymCall =
  /** src_reg BPF_PSEUDO_KFUNC_CALL, imm = `btfId` (vxo's kernel BTF FUNC id), off 0; `name` the kernel's (a flavour's essential name). */
  | { kind: 'kfunc'; name: string; btfId: number }
  /** A weak kfunc the kernel lacks: a helper call with imm `imm` that fails verification if reached. */
  | { kind: 'poison'; name: string; imm: number; message: string };

/** libbpf's sym_is_extern. */
export function symIsExtern(sym: ElfSymbol): boolean {
  return sym.shndx === SHN_UNDEF && (sym.bind === STB.GLOBAL || sym.bind === STB.WEAK) && sym.type === STT.NOTYPE && sym.name !== '';
}

interface ExternBtf {
  /** The FUNC or VAR describing the extern. */
  id: number;
  /** The DATASEC listing it ('.ksyms', '.kconfig', or undefined when none does). */
  sec: string | undefined;
}

const BTF_LINKAGE_EXTERN = 2; // BTF_FUNC_EXTERN and BTF_VAR_GLOBAL_EXTERN share the value

/** find_extern_btf_id and the DATASEC holding it. */
function externBtf(btf: Btf, name: string): ExternBtf | undefined {
  let id: number | undefined;
  for (const t of btf.types) {
    if (t && (t.kind === 'func' || t.kind === 'var') && t.name === name && t.linkage === BTF_LINKAGE_EXTERN) {
      id = t.id;
      break;
    }
  }
  if (id === undefined) return undefined;
  for (const t of btf.types) {
    if (t?.kind === 'datasec' && t.vars.some((v) => v.type === id)) return { id, sec: t.name };
  }
  return { id, sec: undefined };
}

/** The object's externs in libbpf's order (the index of a poisoned weak kfunc call). */
export function externOrder(file: ElfFile): string[] {
  return [...new Set(file.symbols.filter(symIsExtern).map((s) => s.name))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Resolves the extern symbols `symbols` (indices in the symbol table, and whether every use is a
 * call rather than an ld_imm64 of the address) that instructions refer to. `btf`
 * is the object's .BTF (undefined when it has none). Throws: BpfError EOPNOTSUPP for an extern kind
 * vxo does not resolve, EINVAL for a strong kfunc the kernel lacks (libbpf's message and errno), or for a
 * prototype mismatch; ElfError for an extern without BTF.
 */
export function resolveKsymCalls(file: ElfFile, btf: Btf | undefined, kernel: KernelBtf, symbols: ReadonlyMap<number, { call: boolean }>): Map<number, KsymCall> {
  const out = new Map<number, KsymCall>();
  const order = externOrder(file);
  for (const [idx, use] of symbols) {
    const sym = file.symbols[idx];
    if (!sym || !symIsExtern(sym)) throw new ElfError('.symtab', idx * 24, `symbol ${idx} is not an extern`);
    const name = sym.name;
    const weak = sym.bind === STB.WEAK;
    const eb = btf ? externBtf(btf, name) : undefined;
    if (!btf || !eb) throw new ElfError('.BTF', 0, `failed to find BTF for extern '${name}': the object needs BTF (-g) describing its externs`);
    if (eb.sec === '.kconfig') throw new BpfError('EOPNOTSUPP', `extern (kcfg) '${name}': .kconfig externs are not supported by vxo`);
    if (eb.sec !== '.ksyms') throw new ElfError('.BTF', 0, `extern '${name}' is in neither .ksyms nor .kconfig (${eb.sec ?? 'no DATASEC'})`);
    if (btf.type(eb.id)?.kind !== 'func') throw new BpfError('EOPNOTSUPP', `extern (var ksym) '${name}': ksym variables are not supported by vxo, only kfuncs`);
    if (!use.call) throw new BpfError('EOPNOTSUPP', `extern (func ksym) '${name}': only calls of a kfunc are supported, not taking its address`);
    const r = resolveKsymFunc(btf, eb.id, kernel, weak);
    if (r.ok) {
      out.set(idx, { kind: 'kfunc', name: r.kfunc.spec.name, btfId: r.kfunc.funcId });
    } else if (r.weak) {
      out.set(idx, { kind: 'poison', name, imm: POISON_CALL_KFUNC_BASE + order.indexOf(name), message: r.message });
    } else {
      // libbpf's bpf_object__resolve_externs turns every failed ksym resolution (find_ksym_btf_id's
      // -ESRCH for a missing name included) into -EINVAL: what bpf_object__load returns.
      throw new BpfError('EINVAL', r.message);
    }
  }
  return out;
}
