// What every check needs to know about the program being verified: instructions, maps (in the
// PreparedProgram's index order), helpers of the program type, the CFG and liveness, the log, and
// per-run bookkeeping (id generator, scratched registers for the log, stack depth per subprogram).
import type { HelperProto } from '../helpers/proto.ts';
import { linuxHelperName } from '../helpers/names.ts';
import type { Insn } from '../isa/insn.ts';
import { BPF_PSEUDO_LD } from '../isa/opcodes.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE, type BpfMap } from '../maps/map.ts';
import type { Program } from '../prog/program.ts';
import type { Cfg } from './cfg.ts';
import { Reject } from './env-types.ts';
import type { Facts } from './facts.ts';
import type { Precision } from './precision.ts';
import type { BtfRead } from './api.ts';
import { VLog, type InsnNames } from './log.ts';

export interface EnvOptions {
  logLevel: number;
  /** The log's size limit in bytes (VerifyOptions.logSize). */
  logSize?: number;
  allowUninitStack: boolean;
  allowPtrLeaks: boolean;
}

/** Maps in first-use order of their ld_imm64s (as prepareProgram numbers them), and each ld_imm64's map. */
export function resolveMaps(prog: Program): { maps: BpfMap[]; mapAt: Int32Array } {
  const maps: BpfMap[] = [];
  const index = new Map<BpfMap, number>();
  const mapAt = new Int32Array(prog.insns.length).fill(-1);
  for (let pc = 0; pc < prog.insns.length; pc++) {
    const ins = prog.insns[pc]!;
    if (ins.code !== 0x18) continue;
    if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD || ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE) {
      const m = prog.fds.get(ins.imm);
      if (m === undefined) throw new Reject('EBADF', `fd ${ins.imm} is not pointing to valid bpf_map`, [], pc);
      let i = index.get(m);
      if (i === undefined) { i = maps.length; maps.push(m); index.set(m, i); }
      mapAt[pc] = i;
      if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE) {
        const off = prog.insns[pc + 1]!.imm;
        if (m.spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY) {
          throw new Reject('EINVAL', 'no direct value access support for this map type', [], pc);
        }
        if (m.spec.maxEntries !== 1 || off < 0 || off >= m.spec.valueSize) {
          throw new Reject('EINVAL', `invalid access to map value pointer, value_size=${m.spec.valueSize} off=${off >>> 0}`, [], pc);
        }
      }
    }
    pc++;
  }
  return { maps, mapAt };
}

/** The licenses the kernel's license_is_gpl_compatible accepts. */
const GPL_COMPATIBLE: ReadonlySet<string> = new Set([
  'GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL',
]);

export const isGplCompatible = (license: string): boolean => GPL_COMPATIBLE.has(license);

export class Env implements InsnNames {
  readonly log: VLog;
  readonly stackDepth: number[];
  idGen = 0;
  pc = 0;
  /** Registers and stack slots an instruction touched (what the level-2 log prints after it). */
  scratchRegs = 0;
  readonly scratchSlots = new Set<number>();
  /** A load the kernel accepts but cannot rewrite (convert_ctx_accesses fails after the walk). */
  ctxConvertFault = false;
  /** Loads through PTR_TO_BTF_ID, by `${structId}:${off}:${size}` (VerifyResult.btfReads). */
  readonly btfReads = new Map<string, BtfRead>();

  constructor(
    readonly prog: Program,
    readonly insns: readonly Insn[],
    readonly maps: readonly BpfMap[],
    readonly mapAtPc: Int32Array,
    readonly helpers: ReadonlyMap<number, HelperProto>,
    readonly cfg: Cfg,
    readonly live: Uint16Array,
    readonly precision: Precision,
    readonly facts: Facts,
    readonly opts: EnvOptions,
  ) {
    this.log = new VLog(opts.logLevel, opts.logSize);
    this.stackDepth = cfg.subprogs.map(() => 0);

  }

  get progType(): number {
    return this.prog.type;
  }

  /** license_is_gpl_compatible: what kfuncs and kernel structs require of the program's license. */
  get gplCompatible(): boolean {
    return isGplCompatible(this.prog.license);
  }

  noteBtfRead(structId: number, off: number, size: number): void {
    const k = `${structId}:${off}:${size}`;
    if (!this.btfReads.has(k)) this.btfReads.set(k, { structId, off, size });
  }

  newId(): number {
    return ++this.idGen;
  }

  map(i: number): BpfMap {
    const m = this.maps[i];
    if (m === undefined) throw new Reject('EFAULT', `verifier bug: no map ${i}`);
    return m;
  }

  mapReadOnly(i: number): boolean {
    const s = this.map(i).spec;
    if ((s.flags & BPF_MAP_FLAG.BPF_F_RDONLY_PROG) !== 0) return true;
    const t = s.type;
    return t === BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP || t === BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH ||
      t === BPF_MAP_TYPE.BPF_MAP_TYPE_CPUMAP || t === BPF_MAP_TYPE.BPF_MAP_TYPE_XSKMAP;
  }

  mapWriteOnly(i: number): boolean {
    return (this.map(i).spec.flags & BPF_MAP_FLAG.BPF_F_WRONLY_PROG) !== 0;
  }

  // InsnNames / MapNames for the log.
  mapName(i: number): string {
    return this.maps[i]?.spec.name ?? '';
  }

  mapSizes(i: number): [number, number] {
    const m = this.maps[i];
    return m ? [m.spec.keySize, m.spec.valueSize] : [0, 0];
  }

  mapAt(pc: number): number {
    return this.mapAtPc[pc] ?? -1;
  }

  helperName(id: number): string | undefined {
    const h = this.helpers.get(id);
    if (h) return `bpf_${h.name}`;
    return linuxHelperName(id);
  }

  scratchReg(r: number): void {
    this.scratchRegs |= 1 << r;
  }

  scratchSlot(frameOff: number): void {
    this.scratchSlots.add((512 + frameOff) >> 3);
  }

  noteStackDepth(subprog: number, lowestOff: number): void {
    const d = -lowestOff;
    if (d > (this.stackDepth[subprog] ?? 0)) this.stackDepth[subprog] = d;
  }
}
