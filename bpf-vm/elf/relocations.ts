// Turns the Elf64_Rel entries of one executable section into per-instruction facts: "this
// ld_imm64 names map M" or "this call targets instruction N of section S". Nothing is patched
// here; collection.ts copies instructions and fixes calls once it knows where functions land.
import { ElfError } from '../errors.ts';
import { BPF_INSN_SIZE } from '../isa/opcodes.ts';
import type { Insn } from '../isa/insn.ts';
import type { PoisonInfo } from './core-apply.ts';
import { symIsExtern } from './externs.ts';
import { readRels, SHN_LORESERVE, SHN_UNDEF, STT, SYM_SIZE, type ElfFile, type ElfSection, type ElfSymbol } from './reader.ts';

export const R_BPF = {
  NONE: 0,
  /** 64-bit immediate of an ld_imm64 (maps and global data). */
  R_BPF_64_64: 1,
  R_BPF_64_ABS64: 2,
  R_BPF_64_ABS32: 3,
  R_BPF_64_NODYLD32: 4,
  /** pc-relative imm of a bpf-to-bpf call. */
  R_BPF_64_32: 10,
} as const;

const LD_IMM64 = 0x18; // BPF_LD | BPF_IMM | BPF_DW
const CALL = 0x85; // BPF_JMP | BPF_CALL
const BPF_PSEUDO_CALL = 1;

/** Where the loader finds maps: answered by collection.ts, which built the map specs. */
export interface MapLookup {
  /** True when the section holds map definitions (`maps` or `.maps`). */
  isMapSection(shndx: number): boolean;
  /** The map defined at `offset` of map section `shndx`. */
  mapAt(shndx: number, offset: number): string | undefined;
  /** The global-data map backed by section `shndx` (`.data`, `.rodata*`, `.bss`). */
  dataMap(shndx: number): { name: string; size: number } | undefined;
}

export type InsnReloc =
  | { kind: 'map'; map: string }
  | { kind: 'value'; map: string; offset: number }
  | { kind: 'call'; section: number; insn: number }
  /** An ld_imm64 of a function's address (a callback): becomes BPF_PSEUDO_FUNC. */
  | { kind: 'func'; section: number; insn: number }
  /** A call to an extern (a `__ksym` kfunc): `sym` is the undefined symbol's index (externs.ts resolves it). */
  | { kind: 'ksym'; sym: number; name: string; call: boolean };

/** An executable section decoded once, with its relocations keyed by instruction index. */
export interface ExecSection {
  section: ElfSection;
  insns: Insn[];
  relocs: Map<number, InsnReloc>;
  /** Instructions the CO-RE pass poisoned (core-apply.ts), by slot. */
  poisoned?: Map<number, PoisonInfo>;
}

function symbolLabel(sym: ElfSymbol, file: ElfFile): string {
  if (sym.type === STT.SECTION) return `section symbol of ${file.sections[sym.shndx]?.name ?? sym.shndx}`;
  return sym.name || `symbol ${sym.index}`;
}

/**
 * Reads the REL sections `rels` (all targeting `exec`) and resolves every entry. Only the two
 * relocation types clang emits in code are meaningful; anything else in code is refused rather
 * than ignored, since an unapplied relocation would leave a silently wrong instruction.
 */
export function resolveRelocations(file: ElfFile, exec: ExecSection, rels: readonly ElfSection[], maps: MapLookup, execSections: ReadonlyMap<number, ExecSection>): void {
  const sec = exec.section;
  for (const rel of rels) {
    for (const r of readRels(file, rel)) {
      if (r.offset % BPF_INSN_SIZE !== 0 || r.offset + BPF_INSN_SIZE > sec.size) {
        throw new ElfError(rel.name, r.at, `r_offset 0x${r.offset.toString(16)} is not an instruction of ${sec.name} (${sec.size} bytes)`);
      }
      const idx = r.offset / BPF_INSN_SIZE;
      const ins = exec.insns[idx];
      const sym = file.symbols[r.sym];
      if (!ins || !sym) throw new ElfError(rel.name, r.at, 'relocation does not resolve'); // ruled out by the checks above
      if (exec.relocs.has(idx)) throw new ElfError(rel.name, r.at, `second relocation for ${sec.name}+0x${r.offset.toString(16)}`);
      const where = (message: string): ElfError => new ElfError(sec.name, r.offset, message);
      if (sym.shndx === SHN_UNDEF) {
        // clang calls an extern function with src_reg 1 and imm -1, and loads an extern variable's
        // address with an ld_imm64, each relocated against the symbol; externs.ts says what it is.
        const call = r.type === R_BPF.R_BPF_64_32 && ins.code === CALL && ins.src === BPF_PSEUDO_CALL;
        const data = r.type === R_BPF.R_BPF_64_64 && ins.code === LD_IMM64;
        if ((call || data) && symIsExtern(sym)) {
          exec.relocs.set(idx, { kind: 'ksym', sym: sym.index, name: sym.name, call });
          continue;
        }
        throw where(symIsExtern(sym)
          ? `extern ${symbolLabel(sym, file)} is referred to by relocation type ${r.type} on opcode 0x${ins.code.toString(16)}: only calls (R_BPF_64_32) and ld_imm64 (R_BPF_64_64) can use an extern`
          : `refers to undefined symbol ${symbolLabel(sym, file)}, which is not an extern (a global symbol of no type)`);
      }
      if (sym.shndx >= SHN_LORESERVE) throw where(`refers to ${symbolLabel(sym, file)}, which has no section (st_shndx 0x${sym.shndx.toString(16)})`);
      const target = file.sections[sym.shndx];
      if (!target) throw new ElfError(file.sections[file.symtabIndex]?.name ?? '.symtab', sym.index * SYM_SIZE + 6, `symbol ${sym.index} names a missing section`);

      switch (r.type) {
        case R_BPF.R_BPF_64_64: {
          if (ins.code !== LD_IMM64 || idx + 1 >= exec.insns.length) {
            throw where(`R_BPF_64_64 on opcode 0x${ins.code.toString(16)}, not on a complete ld_imm64`);
          }
          if (maps.isMapSection(sym.shndx)) {
            // libbpf's convention: a section symbol carries the definition's offset in imm.
            const off = sym.value + (sym.type === STT.SECTION ? ins.imm : 0);
            const map = maps.mapAt(sym.shndx, off);
            if (map === undefined) throw where(`ld_imm64 refers to an unknown map (${symbolLabel(sym, file)} at ${target.name}+0x${off.toString(16)})`);
            exec.relocs.set(idx, { kind: 'map', map });
            break;
          }
          const data = maps.dataMap(sym.shndx);
          if (data) {
            // The first slot's imm is the addend (for section symbols the variable's offset).
            const offset = ins.imm + sym.value;
            if (offset < 0 || offset >= data.size) throw where(`offset ${offset} into ${data.name} is outside its ${data.size} bytes`);
            exec.relocs.set(idx, { kind: 'value', map: data.name, offset });
            break;
          }
          const code = execSections.get(sym.shndx);
          if (code) {
            // libbpf's RELO_SUBPROG_ADDR: a static function is named by the section symbol with its
            // byte offset in imm, a global one by its own symbol with imm 0.
            const byteOff = sym.value + ins.imm;
            if (sym.value % BPF_INSN_SIZE !== 0 || ins.imm % BPF_INSN_SIZE !== 0) throw where(`bad subprog addr relo against ${symbolLabel(sym, file)}`);
            const insn = byteOff / BPF_INSN_SIZE;
            if (insn < 0 || insn >= code.insns.length) throw where(`function address ${target.name}[${insn}] is outside the section (${code.insns.length} instructions)`);
            exec.relocs.set(idx, { kind: 'func', section: sym.shndx, insn });
            break;
          }
          throw where(`ld_imm64 refers to an unknown map (${symbolLabel(sym, file)} in section ${target.name})`);
        }
        case R_BPF.R_BPF_64_32: {
          if (ins.code !== CALL || ins.src !== BPF_PSEUDO_CALL) {
            throw where(`R_BPF_64_32 on opcode 0x${ins.code.toString(16)} src ${ins.src}, not on a bpf-to-bpf call`);
          }
          const callee = execSections.get(sym.shndx);
          if (!callee) throw where(`call into ${target.name}, which is not an executable section`);
          if (sym.value % BPF_INSN_SIZE !== 0) throw where(`call target ${symbolLabel(sym, file)} at 0x${sym.value.toString(16)} is not instruction-aligned`);
          // Target slot = symbol's slot + imm + 1 (clang: imm -1 for a function symbol, the
          // pc-relative distance from the section start for a section symbol).
          const insn = sym.value / BPF_INSN_SIZE + ins.imm + 1;
          if (insn < 0 || insn >= callee.insns.length) throw where(`call target ${target.name}[${insn}] is outside the section (${callee.insns.length} instructions)`);
          exec.relocs.set(idx, { kind: 'call', section: sym.shndx, insn });
          break;
        }
        default:
          throw new ElfError(rel.name, r.at + 8, `relocation type ${r.type} is not supported in code (${sec.name}+0x${r.offset.toString(16)})`);
      }
    }
  }
}
