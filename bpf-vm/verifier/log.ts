// The verifier log in the kernel's format: instructions as `12: (61) r2 = *(u32 *)(r1 +4)`, register
// states as `R2=pkt(off=14,r=14)` and `scalar(smin=smin32=0,smax=umax=...,var_off=(0x0; 0xff))`.
// Level 1 keeps the path to the error (a finished path is cut back to where its branch was pushed),
// level 2 keeps everything.
import { kernelBtf } from '../btf/kernel-btf.ts';
import type { Insn } from '../isa/insn.ts';
import { OPCODE_TABLE } from '../isa/legality.ts';
import {
  BPF_ALU_OP, BPF_ATOMIC_OP, BPF_END_SRC, BPF_JMP_OP, BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD, bpfOp, bpfSize, bpfSrc, sizeBytes,
} from '../isa/opcodes.ts';
import { isBtfPointer, isPktPointer, regTypeStr, type Reg } from './reg-state.ts';
import { S32_MAX, S32_MIN, S64_MAX, S64_MIN, U32_MAX, U64_MAX, isConst, type Scalar } from './scalar.ts';
import { SLOT_INVALID, SLOT_MISC, SLOT_SPILL, SLOT_ZERO, SLOTS, type Stack } from './stack.ts';
import type { FuncState, RefState } from './state.ts';
import { tnumIsUnknown, tnumToString } from './tnum.ts';

/** A source line of the program (BTF line info), by the instruction slot where it starts. */
export interface LogLineInfo {
  readonly insn: number;
  readonly fileName: string;
  readonly line: string;
  readonly lineNum: number;
}

/** BPF_LOG_LEVEL1, BPF_LOG_LEVEL2 and BPF_LOG_STATS, the bits of the kernel's log_level. */
export const LOG_LEVEL1 = 1;
export const LOG_LEVEL2 = 2;
export const LOG_STATS = 4;

/**
 * The most the log keeps, in bytes (libbpf's first log buffer, BPF_LOG_BUF_SIZE): beyond it the
 * oldest lines go, as the kernel's rotating log keeps the tail of what it printed.
 */
export const DEFAULT_LOG_SIZE = 16 * 1024 * 1024 - 1;

export class VLog {
  private lines: string[] = [];
  /** Bytes in `lines`, newlines included. */
  private bytes = 0;
  /** How many lines were dropped from the front (marks count from the very first line). */
  private base = 0;
  /** Whether lines were dropped for the size limit. */
  truncated = false;
  private lineInfo: readonly LogLineInfo[] = [];
  private prevLinfo: LogLineInfo | undefined;

  constructor(readonly level: number, readonly maxBytes = DEFAULT_LOG_SIZE) {}

  /** Whether instructions and states are printed (levels 1 and 2; level 4 alone prints statistics). */
  get enabled(): boolean {
    return (this.level & (LOG_LEVEL1 | LOG_LEVEL2)) !== 0;
  }

  /** BPF_LOG_STATS: the verification time and stack depth lines before the closing one. */
  get stats(): boolean {
    return (this.level & LOG_STATS) !== 0;
  }

  /** The program's line info, sorted by instruction. */
  setLineInfo(li: readonly LogLineInfo[]): void {
    this.lineInfo = li;
  }

  add(line: string): void {
    if (this.enabled) this.push(line);
  }

  /** Always kept, whatever the level (the error and the closing statistics). */
  always(line: string): void {
    this.push(line);
  }

  private push(line: string): void {
    this.lines.push(line);
    this.bytes += line.length + 1;
    if (this.bytes > this.maxBytes * 2) this.trim();
  }

  /** Drops the oldest lines until the log fits in maxBytes. */
  private trim(): void {
    let i = 0;
    while (i < this.lines.length - 1 && this.bytes > this.maxBytes) this.bytes -= this.lines[i++]!.length + 1;
    if (i === 0) return;
    this.lines.splice(0, i);
    this.base += i;
    this.truncated = true;
  }

  mark(): number {
    return this.base + this.lines.length;
  }

  /** Rewrites line `index` (the state comment added after an instruction line). */
  amend(index: number, f: (text: string) => string): void {
    const i = index - this.base;
    const t = this.lines[i];
    if (t === undefined) return;
    const u = f(t);
    this.lines[i] = u;
    this.bytes += u.length - t.length;
  }

  /** Forgets the lines from `mark` on. */
  private cut(mark: number): void {
    const i = Math.max(mark - this.base, 0);
    if (i >= this.lines.length) return;
    for (let k = i; k < this.lines.length; k++) this.bytes -= this.lines[k]!.length + 1;
    this.lines.length = i;
    if (i === 0) this.base = Math.min(this.base, mark);
  }

  /** Below level 2 a finished path is forgotten (the kernel's pop_log). */
  resetTo(mark: number): void {
    if ((this.level & LOG_LEVEL2) === 0) this.cut(mark);
  }

  /** An accepted program: below level 2 nothing of the walk stays (bpf_vlog_reset(log, 0)). */
  accepted(): void {
    if ((this.level & LOG_LEVEL2) === 0) this.cut(0);
  }

  /**
   * verbose_linfo: the source line `pc` belongs to, `; text @ file:line`, unless it is the one last
   * printed (or another record of the same file and line).
   */
  linfo(pc: number): void {
    const li = this.lineInfo;
    if (this.level === 0 || li.length === 0 || pc < li[0]!.insn) return;
    let lo = 0, hi = li.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (li[mid]!.insn <= pc) lo = mid;
      else hi = mid - 1;
    }
    const l = li[lo]!, p = this.prevLinfo;
    if (l === p || (p !== undefined && l.fileName === p.fileName && l.lineNum === p.lineNum)) return;
    const slash = l.fileName.lastIndexOf('/');
    this.push(`; ${l.line.trimStart()} @ ${l.fileName.slice(slash + 1)}:${l.lineNum}`);
    this.prevLinfo = l;
  }

  text(): string {
    if (this.lines.length === 0) return '';
    let i = 0, bytes = this.bytes;
    while (i < this.lines.length - 1 && bytes > this.maxBytes) bytes -= this.lines[i++]!.length + 1;
    return `${(i === 0 ? this.lines : this.lines.slice(i)).join('\n')}\n`;
  }
}

// ---- numbers ----

const decimal = (v: bigint): boolean => v >= -32768n && v <= 32767n;
export const snum = (v: bigint): string => (decimal(v) ? `${v}` : `0x${BigInt.asUintN(64, v).toString(16)}`);
const num32 = (v: bigint): string => (decimal(v) ? `${v}` : `0x${BigInt.asUintN(32, v).toString(16)}`);

function scalarRanges(s: Scalar): string[] {
  const f: [string, bigint, bigint, boolean][] = [
    ['smin', s.smin, S64_MIN, false], ['smax', s.smax, S64_MAX, false], ['umin', s.umin, 0n, false], ['umax', s.umax, U64_MAX, false],
    ['smin32', s.s32min, S32_MIN, true], ['smax32', s.s32max, S32_MAX, true], ['umin32', s.u32min, 0n, true], ['umax32', s.u32max, U32_MAX, true],
  ];
  const done = new Array<boolean>(f.length).fill(false);
  const out: string[] = [];
  for (let i = 0; i < f.length; i++) {
    const [name, v, def, is32] = f[i]!;
    if (done[i] || v === def) continue;
    const names = [name];
    // As the kernel's print_scalar_ranges: a minimum joins later minimums, a maximum later
    // maximums, compared as the kernel stores them (a 32-bit signed bound outside the decimal
    // range as its u32 pattern), never a negative with a non-negative.
    const raw = (k: number): bigint => {
      const [n, x, , w] = f[k]!;
      return w && n.startsWith('s') && !decimal(x) ? BigInt.asUintN(32, x) : BigInt.asUintN(64, x);
    };
    const neg = (k: number): boolean => f[k]![0].startsWith('s') && BigInt.asIntN(64, raw(k)) < 0n;
    for (let j = i + 2; j < f.length; j += 2) {
      const g = f[j]!;
      if (done[j] || g[1] === g[2] || raw(j) !== raw(i) || neg(j) !== neg(i)) continue;
      names.push(g[0]);
      done[j] = true;
    }
    out.push(`${names.join('=')}=${is32 ? num32(v) : snum(v)}`);
  }
  if (!tnumIsUnknown(s.t)) out.push(`var_off=${tnumToString(s.t)}`);
  return out;
}

export interface MapNames {
  mapName(index: number): string;
  mapSizes(index: number): [number, number];
}

export function fmtReg(r: Reg, frameno: number, maps: MapNames): string {
  if (r.type === 'not_init') return '?';
  if (r.type === 'scalar') {
    if (isConst(r.s)) return snum(BigInt.asIntN(64, r.s.t.value));
    const parts = r.id ? [`id=${r.id}${r.off ? (r.off > 0 ? `+${r.off}` : `${r.off}`) : ''}`] : [];
    return `scalar(${[...parts, ...scalarRanges(r.s)].join(',')})`;
  }
  const varConst = isConst(r.s);
  if (r.type === 'stack') {
    const fr = r.frame !== frameno ? `[${r.frame}]` : '';
    if (varConst) return `fp${fr}${snum(BigInt(r.off) + BigInt.asIntN(64, r.s.t.value))}`;
  }
  const parts: string[] = [];
  if (r.id) parts.push(`id=${r.id}`);
  if (r.refId) parts.push(`ref_obj_id=${r.refId}`);
  if (r.type === 'map_ptr' || r.type === 'map_value' || r.type === 'map_value_or_null' || r.type === 'map_key') {
    const name = maps.mapName(r.map);
    const [ks, vs] = maps.mapSizes(r.map);
    if (name) parts.push(`map=${name}`);
    parts.push(`ks=${ks},vs=${vs}`);
  }
  if (r.off) parts.push(`off=${snum(BigInt(r.off))}`);
  if (isPktPointer(r.type)) parts.push(`r=${r.range}`);
  if (r.type === 'ringbuf_mem' || r.type === 'ringbuf_mem_or_null' || r.type === 'rdonly_untrusted_mem') parts.push(`sz=${r.range}`);
  if (varConst) {
    if (r.s.t.value !== 0n) parts.push(`imm=${snum(BigInt.asIntN(64, r.s.t.value))}`);
  } else {
    parts.push(...scalarRanges(r.s));
  }
  // A BTF pointer prints its modifiers and its struct: trusted_ptr_sk_buff(), ptr_or_null_tcp_sock(id=3).
  const name = r.type === 'stack' ? 'fp' : isBtfPointer(r.type) ? `${regTypeStr(r)}${kernelBtf().btf.type(r.btfId)?.name ?? ''}` : r.type;
  return `${name}(${parts.join(',')})`;
}

const SLOT_CHAR = ['?', 'm', '0', 'r'];

function fmtSlot(st: Stack, slot: number, frameno: number, maps: MapNames): string | undefined {
  const b = slot * 8;
  let any = false;
  for (let i = b; i < b + 8; i++) if (st.types[i] !== SLOT_INVALID) any = true;
  if (!any) return undefined;
  const sp = st.spills[slot];
  if (sp !== undefined && sp.size === 8) return fmtReg(sp.reg, frameno, maps);
  // A narrow spill prints as the kernel's: the other bytes, then the register (fp-88=0000scalar(...)).
  const showReg = sp !== undefined && sp.reg.type === 'scalar';
  let chars = '';
  for (let i = b + 7; i >= b; i--) {
    const t = st.types[i]!;
    if (t === SLOT_SPILL) { if (!showReg) chars += 'm'; continue; }
    chars += SLOT_CHAR[t === SLOT_MISC || t === SLOT_ZERO ? t : 0];
  }
  return showReg ? chars + fmtReg(sp.reg, frameno, maps) : chars;
}

/** `R1=ctx() R10=fp0 fp-8=mmmmmmmm refs=2`; `regs`/`slots` restrict the output (scratched ones). */
export function fmtFrame(f: FuncState, refs: readonly RefState[], maps: MapNames, regs?: number, slots?: ReadonlySet<number>): string {
  const out: string[] = [];
  for (let i = 0; i < f.regs.length; i++) {
    if (regs !== undefined && (regs & (1 << i)) === 0) continue;
    const r = f.regs[i]!;
    if (r.type === 'not_init') continue;
    out.push(`R${i}=${fmtReg(r, f.frameno, maps)}`);
  }
  for (let slot = SLOTS - 1; slot >= 0; slot--) {
    if (slots !== undefined && !slots.has(slot)) continue;
    const s = fmtSlot(f.stack, slot, f.frameno, maps);
    if (s !== undefined) out.push(`fp${-(SLOTS - slot) * 8}=${s}`);
  }
  // The kernel prints the references held after the scratched registers too.
  if (refs.length > 0) out.push(`refs=${refs.map((r) => r.id).join(',')}`);
  const prefix = f.frameno > 0 ? `frame${f.frameno}: ` : '';
  // A callback's frame is marked as the kernel marks in_callback_fn.
  return prefix + out.join(' ') + (f.inCallback ? ' cb' : '');
}

// ---- instructions ----

const ALU_STR: Readonly<Record<number, string>> = {
  [BPF_ALU_OP.BPF_ADD]: '+=', [BPF_ALU_OP.BPF_SUB]: '-=', [BPF_ALU_OP.BPF_MUL]: '*=', [BPF_ALU_OP.BPF_DIV]: '/=',
  [BPF_ALU_OP.BPF_OR]: '|=', [BPF_ALU_OP.BPF_AND]: '&=', [BPF_ALU_OP.BPF_LSH]: '<<=', [BPF_ALU_OP.BPF_RSH]: '>>=',
  [BPF_ALU_OP.BPF_MOD]: '%=', [BPF_ALU_OP.BPF_XOR]: '^=', [BPF_ALU_OP.BPF_MOV]: '=', [BPF_ALU_OP.BPF_ARSH]: 's>>=',
};
export const aluOpString = (code: number): string => ALU_STR[bpfOp(code)] ?? '?';

const JMP_STR: Readonly<Record<number, string>> = {
  [BPF_JMP_OP.BPF_JEQ]: '==', [BPF_JMP_OP.BPF_JGT]: '>', [BPF_JMP_OP.BPF_JGE]: '>=', [BPF_JMP_OP.BPF_JSET]: '&',
  [BPF_JMP_OP.BPF_JNE]: '!=', [BPF_JMP_OP.BPF_JSGT]: 's>', [BPF_JMP_OP.BPF_JSGE]: 's>=', [BPF_JMP_OP.BPF_JLT]: '<',
  [BPF_JMP_OP.BPF_JLE]: '<=', [BPF_JMP_OP.BPF_JSLT]: 's<', [BPF_JMP_OP.BPF_JSLE]: 's<=',
};
const ATOMIC_NAME: Readonly<Record<number, string>> = {
  [BPF_ATOMIC_OP.BPF_ADD]: 'add', [BPF_ATOMIC_OP.BPF_OR]: 'or', [BPF_ATOMIC_OP.BPF_AND]: 'and', [BPF_ATOMIC_OP.BPF_XOR]: 'xor',
};

const hex = (n: number): string => (n >>> 0).toString(16).padStart(2, '0');
const signedOff = (o: number): string => (o < 0 ? `${o}` : `+${o}`);

export interface InsnNames extends MapNames {
  helperName(id: number): string | undefined;
  /** Map index named by the ld_imm64 at pc. */
  mapAt(pc: number): number;
}

/** One instruction as the kernel's verifier log prints it (without the `pc: ` prefix). */
export function fmtInsn(insns: readonly Insn[], pc: number, names: InsnNames): string {
  const ins = insns[pc]!;
  const rule = OPCODE_TABLE.get(ins.code);
  const c = `(${hex(ins.code)})`;
  if (rule === undefined) return `${c} invalid`;
  const r = rule.wide ? 'r' : 'w';
  const sz = `u${sizeBytes(bpfSize(ins.code)) * 8}`;
  switch (rule.kind) {
    case 'alu': {
      const op = bpfOp(ins.code);
      if (op === BPF_ALU_OP.BPF_MOV && ins.off !== 0 && bpfSrc(ins.code) !== 0) return `${c} ${r}${ins.dst} = (s${ins.off})${r}${ins.src}`;
      const s = (op === BPF_ALU_OP.BPF_DIV || op === BPF_ALU_OP.BPF_MOD) && ins.off === 1 ? 's' : '';
      const rhs = bpfSrc(ins.code) !== 0 ? `${r}${ins.src}` : `${ins.imm}`;
      return `${c} ${r}${ins.dst} ${s}${ALU_STR[op]} ${rhs}`;
    }
    case 'neg': return `${c} ${r}${ins.dst} = -${r}${ins.dst}`;
    case 'end': return `${c} r${ins.dst} = ${bpfSrc(ins.code) === BPF_END_SRC.BPF_TO_BE ? 'be' : 'le'}${ins.imm} r${ins.dst}`;
    case 'bswap': return `${c} r${ins.dst} = bswap${ins.imm} r${ins.dst}`;
    case 'ja': return `${c} goto pc${signedOff(ins.off)}`;
    case 'gotol': return `${c} gotol pc${signedOff(ins.imm)}`;
    case 'jcond': {
      const rhs = bpfSrc(ins.code) !== 0 ? `${r}${ins.src}` : `0x${(ins.imm >>> 0).toString(16)}`;
      return `${c} if ${r}${ins.dst} ${JMP_STR[bpfOp(ins.code)]} ${rhs} goto pc${signedOff(ins.off)}`;
    }
    case 'call':
      if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) return `${c} call pc${signedOff(ins.imm)}`;
      // A kfunc call names the function by its BTF id in (vxo's) kernel BTF, as the kernel prints it.
      if (ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL) return `${c} call ${kernelBtf().kfuncById(ins.imm)?.spec.name ?? 'unknown'}#${ins.imm}`;
      return `${c} call ${names.helperName(ins.imm) ?? 'unknown'}#${ins.imm}`;
    case 'exit': return `${c} exit`;
    case 'lddw': {
      const next = insns[pc + 1]!;
      if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD) return `${c} r${ins.dst} = map[${names.mapName(names.mapAt(pc))}]`;
      if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE) return `${c} r${ins.dst} = map[${names.mapName(names.mapAt(pc))}][0]+${next.imm}`;
      const v = (BigInt(next.imm >>> 0) << 32n) | BigInt(ins.imm >>> 0);
      return `${c} r${ins.dst} = 0x${v.toString(16)}`;
    }
    case 'ldabs': return `${c} r0 = *(${sz} *)skb[${ins.imm}]`;
    case 'ldind': return `${c} r0 = *(${sz} *)skb[r${ins.src} + ${ins.imm}]`;
    case 'ldx': return `${c} r${ins.dst} = *(${sz} *)(r${ins.src} ${signedOff(ins.off)})`;
    case 'ldxsx': return `${c} r${ins.dst} = *(s${sizeBytes(bpfSize(ins.code)) * 8} *)(r${ins.src} ${signedOff(ins.off)})`;
    case 'st': return `${c} *(${sz} *)(r${ins.dst} ${signedOff(ins.off)}) = ${ins.imm}`;
    case 'stx': return `${c} *(${sz} *)(r${ins.dst} ${signedOff(ins.off)}) = r${ins.src}`;
    case 'atomic': {
      const at = `(${sz} *)(r${ins.dst} ${signedOff(ins.off)})`;
      const w64 = rule.wide ? '64' : '';
      if (ins.imm === BPF_ATOMIC_OP.BPF_CMPXCHG) return `${c} r0 = atomic${w64}_cmpxchg(${at}, r0, r${ins.src})`;
      if (ins.imm === BPF_ATOMIC_OP.BPF_XCHG) return `${c} r${ins.src} = atomic${w64}_xchg(${at}, r${ins.src})`;
      const name = ATOMIC_NAME[ins.imm & ~BPF_ATOMIC_OP.BPF_FETCH] ?? '?';
      if ((ins.imm & BPF_ATOMIC_OP.BPF_FETCH) !== 0) return `${c} r${ins.src} = atomic${w64}_fetch_${name}(${at}, r${ins.src})`;
      return `${c} lock *(${sz} *)(r${ins.dst} ${signedOff(ins.off)}) ${ALU_STR[ins.imm & 0xf0] ?? '?'} r${ins.src}`;
    }
  }
}

/** Spaces after an instruction so that its `;` state comment lines up as the kernel's does. */
export function stateColumnPad(len: number): string {
  const pos = len + 1;
  const col = Math.ceil(Math.max(pos + 4, 40) / 8) * 8;
  return ' '.repeat(Math.max(col - pos - 1, 1));
}
