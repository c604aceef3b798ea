// CO-RE at load time (libbpf's bpf_object__relocate_core + bpf_core_patch_insn): every record of
// .BTF.ext's CO-RE section is resolved against the target BTF (vxo's kernel BTF) and written into
// the instruction it names, in the section's own numbering, before functions are copied into
// programs (so a subprogram of .text is relocated once, as libbpf relocates it before linking).
//
// What may be patched is what clang emits for a relocatable access: an ALU immediate, the offset
// of an LDX/ST/STX (and its size, where a field's size differs and the value survives a narrower
// or wider load: pointers, unsigned integers), or the 64-bit constant of an ld_imm64. An
// instruction that does not hold the value clang computed is refused as libbpf refuses it
// ("unexpected insn"). A relocation with no target (a missing field or enumerator, for the kinds
// that have no "does not exist" value; a missing type gives 0, never a poison) poisons the
// instruction: a helper call with imm 0xbad2310 that fails verification only if reached, and the
// load goes on.
import type { Btf } from '../btf/btf.ts';
import { BPF_CORE, BPF_CORE_KIND_STR, coreRelosBySection, type CoreRelo } from '../btf/core-relos.ts';
import { bpf_core_calc_relo, bpf_core_parse_spec, type CoreReloResult, type CoreSpec } from '../btf/core-resolve.ts';
import { ElfError } from '../errors.ts';
import type { Insn } from '../isa/insn.ts';
import { BPF_CLASS, BPF_INSN_SIZE, BPF_SIZE, BPF_SRC, bpfClass, bpfMode, bpfSize, bpfSrc, sizeBytes } from '../isa/opcodes.ts';
import type { ExecSection } from './relocations.ts';

/** libbpf's bpf_core_poison_insn imm: "invalid func unknown#195896080" when the verifier reaches it. */
export const BPF_CORE_POISON_IMM = 195896080; // 0xbad2310, "bad relo"
const CALL = 0x85;
const LD_IMM64 = 0x18;
const SHRT_MAX = 0x7fff;

/** An instruction a load poisoned, and why (as `ProgramSpec.poisoned` records it per program slot). */
export interface PoisonInfo {
  reason: 'core' | 'kfunc';
  /** The function the instruction belongs to, and its index there (libbpf's `insn #n`). */
  func: string;
  funcInsn: number;
  /** CO-RE: the record's index in its section (libbpf's `relo #n`) and libbpf's kind name (`byte_off`, ...). */
  relo?: number;
  reloKind?: string;
  /** CO-RE: the local access libbpf prints, `[12] struct tcp_sock___local.snd_cwnd (0:1 @ offset 4)`. */
  spec?: string;
  /** CO-RE: the field (or type, or enumerator) path alone: `tcp_sock___local.snd_cwnd`. */
  field?: string;
  /** kfunc: the extern's name. */
  name?: string;
  /** What libbpf writes into the verifier log for it (its fixup of "invalid func unknown#..."). */
  message: string;
  /** Why a relocation that did resolve still poisoned its instruction (libbpf's load-time warning). */
  detail?: string;
}

/** Where a section's functions start: the record's instruction is named by function and index. */
export interface FuncRange {
  name: string;
  start: number;
  end: number;
}

/** btf_kind_str for the kinds a CO-RE root can have. */
function kindStr(btf: Btf, id: number): string {
  const t = btf.type(id);
  if (!t) return 'void';
  return t.kind;
}

/** bpf_core_format_spec: `<byte_off> [12] struct tcp_sock___local.snd_cwnd (0:1 @ offset 4)`. */
export function formatCoreSpec(spec: CoreSpec, kind: number): { text: string; field: string } {
  const btf = spec.btf;
  const root = btf.type(spec.rootTypeId);
  const name = root?.name ? root.name : '<anon>';
  let text = `<${BPF_CORE_KIND_STR[kind] ?? `kind ${kind}`}> [${spec.rootTypeId}] ${kindStr(btf, spec.rootTypeId)} ${name}`;
  let field = name;
  if (kind === BPF_CORE.ENUMVAL_EXISTS || kind === BPF_CORE.ENUMVAL_VALUE) {
    const acc = spec.spec[0];
    const t = btf.type(btf.skipQualifiers(spec.rootTypeId));
    const v = acc && (t?.kind === 'enum' || t?.kind === 'enum64') ? t.values[acc.idx] : undefined;
    if (v) {
      text += `::${v.name} = ${BigInt.asUintN(t?.kind === 'enum' ? 32 : 64, v.value)}`;
      field += `::${v.name}`;
    }
    return { text, field };
  }
  if (kind > BPF_CORE.FIELD_RSHIFT_U64) return { text, field };
  let path = '';
  spec.spec.forEach((a, i) => {
    if (a.name !== undefined) path += `.${a.name}`;
    else if (i > 0 || a.idx > 0) path += `[${a.idx}]`;
  });
  const off = spec.bitOffset % 8 !== 0 ? `${Math.floor(spec.bitOffset / 8)}.${spec.bitOffset % 8}` : `${spec.bitOffset / 8}`;
  return { text: `${text}${path} (${spec.raw.join(':')} @ offset ${off})`, field: `${field}${path}` };
}

const BYTES_TO_SIZE: Readonly<Record<number, number>> = { 1: BPF_SIZE.BPF_B, 2: BPF_SIZE.BPF_H, 4: BPF_SIZE.BPF_W, 8: BPF_SIZE.BPF_DW };

/** bpf_core_poison_insn. */
function poison(ins: Insn): void {
  ins.code = CALL;
  ins.dst = 0;
  ins.src = 0;
  ins.off = 0;
  ins.imm = BPF_CORE_POISON_IMM;
}

const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));

/**
 * bpf_core_patch_insn: writes `res` into `insns[idx]` (and its second slot for an ld_imm64).
 * Returns false when patched, true when poisoned (no target), or the reason for poisoning a
 * relocation that resolved. `fail` builds the error for a refused patch.
 */
export function bpf_core_patch_insn(insns: Insn[], idx: number, res: CoreReloResult, fail: (message: string) => Error): boolean | string {
  const ins = insns[idx];
  if (!ins) throw fail('instruction outside its section');
  const cls = bpfClass(ins.code);
  const doPoison = (): true => {
    const next = insns[idx + 1];
    // The second slot of an ld_imm64 is poisoned too, or the verifier stops at "unknown opcode 00".
    if (ins.code === LD_IMM64 && next) poison(next);
    poison(ins);
    return true;
  };
  if (res.poison) return doPoison();
  const orig = res.origVal, val = res.newVal;
  switch (cls) {
    case BPF_CLASS.BPF_ALU: case BPF_CLASS.BPF_ALU64: {
      if (bpfSrc(ins.code) !== BPF_SRC.BPF_K) throw fail(`(ALU/ALU64) is not an immediate operation (code 0x${ins.code.toString(16)})`);
      if (res.validate && u64(ins.imm) !== u64(orig)) throw fail(`unexpected insn (ALU/ALU64) value: got ${ins.imm >>> 0}, exp ${orig} -> ${val}`);
      ins.imm = Number(BigInt.asIntN(32, BigInt(val)));
      return false;
    }
    case BPF_CLASS.BPF_LDX: case BPF_CLASS.BPF_ST: case BPF_CLASS.BPF_STX: {
      if (res.validate && ins.off !== orig) throw fail(`unexpected insn (LDX/ST/STX) value: got ${ins.off & 0xffff}, exp ${orig} -> ${val}`);
      if (val > SHRT_MAX) throw fail(`insn (LDX/ST/STX) value too big: ${val}`);
      if (res.failMemszAdjust) {
        doPoison();
        return 'insn (LDX/ST/STX) accesses field incorrectly. Make sure you are accessing pointers, unsigned integers, or fields of matching type and size.';
      }
      ins.off = val;
      if (res.newSize !== res.origSize) {
        const have = sizeBytes(bpfSize(ins.code));
        if (have !== res.origSize) throw fail(`insn (LDX/ST/STX) unexpected mem size: got ${have}, exp ${res.origSize}`);
        const sz = BYTES_TO_SIZE[res.newSize];
        if (sz === undefined) throw fail(`insn (LDX/ST/STX) invalid new mem size: ${res.newSize}`);
        ins.code = bpfMode(ins.code) | sz | cls;
      }
      return false;
    }
    case BPF_CLASS.BPF_LD: {
      const hi = insns[idx + 1];
      if (ins.code !== LD_IMM64 || ins.src !== 0 || ins.off !== 0 || !hi || hi.code !== 0 || hi.dst !== 0 || hi.src !== 0 || hi.off !== 0) {
        throw fail('insn (LDIMM64) has unexpected form');
      }
      const imm = (u64(hi.imm >>> 0) << 32n) | u64(ins.imm >>> 0);
      if (res.validate && imm !== u64(orig)) throw fail(`unexpected insn (LDIMM64) value: got ${imm}, exp ${orig} -> ${val}`);
      const v = u64(val);
      ins.imm = Number(BigInt.asIntN(32, v));
      hi.imm = Number(BigInt.asIntN(32, v >> 32n));
      return false;
    }
    default:
      throw fail(`trying to relocate unrecognized insn, code:0x${ins.code.toString(16)}, src:0x${ins.src.toString(16)}, dst:0x${ins.dst.toString(16)}, off:0x${(ins.off & 0xffff).toString(16)}, imm:0x${(ins.imm >>> 0).toString(16)}`);
  }
}

/**
 * Applies every CO-RE record of `ext` (the .BTF.ext bytes) to the executable sections, in place.
 * `funcs` gives each section's functions (records are reported by function and index within it);
 * a record of an instruction outside every function is skipped, as libbpf skips relocations of
 * eliminated weak subprograms. Returns the poisoned instructions by section index and slot.
 * Throws ElfError for a malformed record or an instruction that does not match it.
 */
export function applyCoreRelocations(
  ext: Uint8Array, btfBytes: Uint8Array, local: Btf, target: Btf,
  execs: ReadonlyMap<number, ExecSection>, funcs: (shndx: number) => readonly FuncRange[],
): Map<number, Map<number, PoisonInfo>> {
  const out = new Map<number, Map<number, PoisonInfo>>();
  const bySection = coreRelosBySection(ext, btfBytes);
  for (const [secName, relos] of bySection) {
    const exec = [...execs.values()].find((e) => e.section.name === secName);
    if (!exec) throw new ElfError('.BTF.ext', 0, `CO-RE relocations for section '${secName}', which is not a program section`);
    relos.forEach((r: CoreRelo, i: number) => {
      const where = (message: string, cause?: unknown): ElfError => new ElfError(secName, r.insnOff, message, cause === undefined ? undefined : { cause });
      if (r.insnOff % BPF_INSN_SIZE !== 0) throw where(`CO-RE relo #${i}: insn offset ${r.insnOff} is not a multiple of ${BPF_INSN_SIZE}`);
      const idx = r.insnOff / BPF_INSN_SIZE;
      if (idx >= exec.insns.length) throw where(`CO-RE relo #${i}: insn #${idx} is outside ${secName} (${exec.insns.length} insns)`);
      const f = funcs(exec.section.index).find((x) => idx >= x.start && idx < x.end);
      if (!f) return;
      const fi = idx - f.start;
      const prog = `prog '${f.name}': relo #${i}`;
      let res: CoreReloResult, lspec: CoreSpec;
      try {
        lspec = bpf_core_parse_spec(local, r.typeId, r.accessStr, r.kind);
        res = bpf_core_calc_relo(local, r, target);
      } catch (e) {
        // Whatever a malformed record makes the resolver trip on, the object is what is wrong.
        throw where(`${prog}: insn #${fi}: failed to relocate (kind ${r.kind}, type [${r.typeId}], access '${r.accessStr}'): ${(e as Error).message}`, e);
      }
      const poisoned = bpf_core_patch_insn(exec.insns, idx, res, (m) => where(`${prog}: insn #${fi}: ${m}`));
      if (poisoned === false) return;
      const { text, field } = formatCoreSpec(lspec, r.kind);
      const m = out.get(exec.section.index) ?? new Map<number, PoisonInfo>();
      m.set(idx, {
        reason: 'core', func: f.name, funcInsn: fi, relo: i, reloKind: BPF_CORE_KIND_STR[r.kind] ?? `kind ${r.kind}`, spec: text, field,
        message: `failed to resolve CO-RE relocation ${text}`,
        ...(typeof poisoned === 'string' ? { detail: poisoned } : {}),
      });
      out.set(exec.section.index, m);
    });
  }
  return out;
}
