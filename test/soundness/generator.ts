// Structured random XDP programs for the verifier's soundness test: the shapes real programs have
// (header parsing, variable offsets, map lookups, stack use, spills, loops, pointer arithmetic,
// helpers, subprograms, 32-bit ALU, return values), each in correct and deliberately broken
// variants. Everything follows from a seed, so program N of seed S is always the same program.
//
// Conventions inside a generated program: r6 holds the context for the whole program; a block
// reloads data/data_end into r2/r3 when it needs them; r1, r4, r5 are temporaries; r7-r9 live
// across helper calls within a block; `out` is the early exit (r0 = XDP_DROP).
import { insn, type Insn } from '../../bpf-vm/isa/insn.ts';
import { BPF_ALU_OP, BPF_JMP_OP } from '../../bpf-vm/isa/opcodes.ts';
import { BPF_FUNC } from '../../bpf-vm/helpers/ids.ts';
import { BPF_MAP_TYPE, type MapSpec } from '../../bpf-vm/maps/map.ts';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

export interface Rng {
  next(): number;
  /** Integer in [lo, hi], inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Uint8Array;
  u32(): number;
}

/** mulberry32: small, fast, good enough, and the same on every machine. */
export function makeRng(seed: number): Rng {
  let a = seed | 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
    chance: (p) => next() < p,
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
    u32: () => Math.floor(next() * 4294967296) >>> 0,
  };
  return rng;
}

/** Seed of program `index` of a run seeded `base` (so one program can be regenerated alone). */
export function programSeed(base: number, index: number): number {
  return (Math.imul(base ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) | 0;
}

// ---------------------------------------------------------------------------------------------
// A tiny assembler with labels

const { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH, BPF_NEG } = BPF_ALU_OP;
const { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE, BPF_JSET } = BPF_JMP_OP;
export { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH };
export { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE, BPF_JSET };

export type Size = 1 | 2 | 4 | 8;
const SZ: Record<Size, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
export const XDP_DROP = 1;
export const XDP_PASS = 2;

/** Operand: a register `r(n)` or an immediate number. */
export interface Reg { reg: number }
export const r = (n: number): Reg => ({ reg: n });
type Operand = Reg | number;
const isReg = (o: Operand): o is Reg => typeof o === 'object';

export class Asm {
  readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { pc: number; label: string; field: 'off' | 'imm' }[] = [];
  private counter = 0;

  /** Whether any jump or call so far targets `label`. */
  referenced(label: string): boolean { return this.fixups.some((f) => f.label === label); }

  get pc(): number { return this.insns.length; }
  fresh(prefix: string): string { return `${prefix}_${this.counter++}`; }

  label(name: string): void {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.insns.length);
  }

  alu(op: number, dst: number, src: Operand, w32 = false, off = 0): void {
    const cls = w32 ? 0x04 : 0x07;
    if (isReg(src)) this.insns.push(insn(cls | op | 0x08, dst, src.reg, off, 0));
    else this.insns.push(insn(cls | op, dst, 0, off, src | 0));
  }
  mov(dst: number, src: Operand, w32 = false): void { this.alu(BPF_MOV, dst, src, w32); }
  add(dst: number, src: Operand, w32 = false): void { this.alu(BPF_ADD, dst, src, w32); }
  neg(dst: number, w32 = false): void { this.insns.push(insn((w32 ? 0x04 : 0x07) | BPF_NEG, dst)); }
  /** BPF_END: to big-endian (be) or little-endian of `bits`. */
  endian(dst: number, bits: 16 | 32 | 64, be: boolean): void { this.insns.push(insn(0xd4 | (be ? 0x08 : 0), dst, 0, 0, bits)); }
  movsx(dst: number, src: number, bits: 8 | 16 | 32): void { this.insns.push(insn(0xbf, dst, src, bits, 0)); }

  ldx(size: Size, dst: number, src: number, off: number): void { this.insns.push(insn(0x61 | SZ[size], dst, src, off, 0)); }
  st(size: Size, dst: number, off: number, imm: number): void { this.insns.push(insn(0x62 | SZ[size], dst, 0, off, imm | 0)); }
  stx(size: Size, dst: number, off: number, src: number): void { this.insns.push(insn(0x63 | SZ[size], dst, src, off, 0)); }
  /** lock add (no fetch) of `src` into [dst+off]; size 4 or 8. */
  atomicAdd(size: 4 | 8, dst: number, off: number, src: number): void { this.insns.push(insn(0xc3 | SZ[size], dst, src, off, 0)); }

  jmp(op: number, dst: number, src: Operand, label: string, w32 = false): void {
    const cls = w32 ? 0x06 : 0x05;
    this.fixups.push({ pc: this.pc, label, field: 'off' });
    if (isReg(src)) this.insns.push(insn(cls | op | 0x08, dst, src.reg, 0, 0));
    else this.insns.push(insn(cls | op, dst, 0, 0, src | 0));
  }
  ja(label: string): void {
    this.fixups.push({ pc: this.pc, label, field: 'off' });
    this.insns.push(insn(0x05));
  }
  call(helper: number): void { this.insns.push(insn(0x85, 0, 0, 0, helper)); }
  callLocal(label: string): void {
    this.fixups.push({ pc: this.pc, label, field: 'imm' });
    this.insns.push(insn(0x85, 0, 1, 0, 0));
  }
  exit(): void { this.insns.push(insn(0x95)); }
  ldMap(dst: number, fd: number): void {
    this.insns.push(insn(0x18, dst, 1, 0, fd));
    this.insns.push(insn(0, 0, 0, 0, 0));
  }
  /** dst = &value[0] + off of an array map (ld_imm64 src 2, global data). */
  ldMapValue(dst: number, fd: number, off: number): void {
    this.insns.push(insn(0x18, dst, 2, 0, fd));
    this.insns.push(insn(0, 0, 0, 0, off));
  }
  ld64(dst: number, v: bigint): void {
    const u = BigInt.asUintN(64, v);
    this.insns.push(insn(0x18, dst, 0, 0, Number(u & 0xffffffffn) | 0));
    this.insns.push(insn(0, 0, 0, 0, Number(u >> 32n) | 0));
  }

  finish(): Insn[] {
    for (const f of this.fixups) {
      const t = this.labels.get(f.label);
      if (t === undefined) throw new Error(`undefined label ${f.label}`);
      const rel = t - (f.pc + 1);
      if (f.field === 'off') this.insns[f.pc]!.off = rel;
      else this.insns[f.pc]!.imm = rel;
    }
    return this.insns;
  }
}

// ---------------------------------------------------------------------------------------------
// Programs

/** What the variant is: correct (must be safe on every input), broken, or implementation-defined. */
export type Expect = 'safe' | 'unsafe' | 'any';

export interface MapDef {
  spec: MapSpec;
  /** Keys (as u32) the program looks up with constants or small packet-derived values. */
  keyHints: number[];
}

export interface GenProgram {
  index: number;
  seed: number;
  /** The primary shape and its variant. */
  shape: string;
  variant: string;
  expect: Expect;
  /** Correct blocks added around the primary one (decoration), by shape name. */
  extras: string[];
  insns: Insn[];
  /** Maps in creation order: the first gets fd 3, the next fd 4 (FdTable's numbering). */
  maps: MapDef[];
  /** Packet lengths worth trying (each check's boundary and its neighbours). */
  lengthHints: number[];
}

export const FIRST_FD = 3;

const P = { data: 0, dataEnd: 4, dataMeta: 8, ingress: 12, rxq: 16 } as const;
const ETH_P_IP_LE = 0x0008;
const ETH_P_IPV6_LE = 0xdd86;
const ETH_P_8021Q_LE = 0x0081;

interface Variant {
  name: string;
  expect: Expect;
}

/** Builds the code of one block; the Gen carries the program being built. */
type BlockFn = (g: Gen, variant: string) => void;

interface Shape {
  name: string;
  variants: readonly Variant[];
  build: BlockFn;
  /** The block may be used as a correct decoration next to another shape's block. */
  decor?: boolean;
}

export class Gen {
  readonly a = new Asm();
  readonly maps: MapDef[] = [];
  readonly hints = new Set<number>();
  /** Subprograms: emitted after the main program's exits. */
  readonly subprogs: (() => void)[] = [];
  /** Set by blocks that call helpers (r0 then always holds something). */
  calls = false;
  /** A register the block computed from what it read: the program returns (reg & 3). */
  retReg: number | undefined = undefined;
  /** The block's result must reach the return value unchanged: no decoration after it. */
  noPostDecor = false;
  /** Nothing may run before the block (it reads registers nothing has written). */
  noPreDecor = false;

  constructor(readonly rng: Rng) {}

  hint(n: number): void {
    for (const d of [-1, 0, 1]) if (n + d >= 0) this.hints.add(n + d);
  }

  addMap(type: number, keySize: number, valueSize: number, maxEntries: number, keyHints: number[] = [], flags = 0): number {
    const fd = FIRST_FD + this.maps.length;
    const kind = type === BPF_MAP_TYPE.BPF_MAP_TYPE_HASH ? 'hash' : 'array';
    this.maps.push({
      spec: { name: `${kind}${this.maps.length}_${keySize}_${valueSize}_${maxEntries}${flags ? `_f${flags}` : ''}`, type, keySize, valueSize, maxEntries, flags },
      keyHints,
    });
    return fd;
  }

  /** r2 = data, r3 = data_end (from r6). Sometimes via another register and a move. */
  loadPkt(dReg = 2, eReg = 3): void {
    if (this.rng.chance(0.2)) {
      this.a.ldx(4, eReg, 6, P.dataEnd);
      this.a.ldx(4, dReg, 6, P.data);
    } else {
      this.a.ldx(4, dReg, 6, P.data);
      this.a.ldx(4, eReg, 6, P.dataEnd);
    }
  }

  /**
   * `if base + n > end goto fail`, in one of the spellings compilers produce; all are the same
   * check. Leaves base + n in `tmp`.
   */
  check(base: number, n: number, end: number, fail: string, tmp = 4): void {
    const a = this.a;
    this.hint(n);
    a.mov(tmp, r(base));
    a.add(tmp, n);
    switch (this.rng.int(0, 3)) {
      case 0: a.jmp(BPF_JGT, tmp, r(end), fail); break;
      case 1: a.jmp(BPF_JLT, end, r(tmp), fail); break;
      case 2: {
        const ok = a.fresh('ok');
        a.jmp(BPF_JLE, tmp, r(end), ok);
        a.ja(fail);
        a.label(ok);
        break;
      }
      default: {
        const ok = a.fresh('ok');
        a.jmp(BPF_JGE, end, r(tmp), ok);
        a.ja(fail);
        a.label(ok);
        break;
      }
    }
  }

  /** A broken check selected by name; falls back to the correct one. */
  checkVariant(kind: string, base: number, n: number, end: number, fail: string, tmp = 4): void {
    const a = this.a;
    switch (kind) {
      case 'off_by_one': this.check(base, n - 1, end, fail, tmp); this.hint(n); return;
      case 'wrong_reg':
        // Computes base + n but compares base itself.
        this.hint(n);
        a.mov(tmp, r(base));
        a.add(tmp, n);
        a.jmp(BPF_JGT, base, r(end), fail);
        return;
      case 'missing': this.hint(n); return;
      case 'inverted':
        this.hint(n);
        a.mov(tmp, r(base));
        a.add(tmp, n);
        a.jmp(BPF_JLE, tmp, r(end), fail);
        return;
      case 'swapped':
        // end > base + n goto fail: the fall-through path is the short packet.
        this.hint(n);
        a.mov(tmp, r(base));
        a.add(tmp, n);
        a.jmp(BPF_JGT, end, r(tmp), fail);
        return;
      case 'jmp32':
        this.hint(n);
        a.mov(tmp, r(base));
        a.add(tmp, n);
        a.jmp(BPF_JGT, tmp, r(end), fail, true);
        return;
      default: this.check(base, n, end, fail, tmp);
    }
  }

  /** Random ALU work on scalars r7..r9 that feeds nothing but the return value. */
  noise(count: number): void {
    const a = this.a, rng = this.rng;
    const regs = [7, 8, 9];
    for (const reg of regs) a.mov(reg, rng.int(-1000, 100000));
    for (let i = 0; i < count; i++) {
      const d = rng.pick(regs);
      const w32 = rng.chance(0.4);
      switch (rng.int(0, 9)) {
        case 0: a.alu(rng.pick([BPF_ADD, BPF_SUB, BPF_XOR, BPF_OR, BPF_AND]), d, rng.chance(0.5) ? r(rng.pick(regs)) : rng.int(-5000, 5000), w32); break;
        case 1: a.alu(rng.pick([BPF_MUL, BPF_DIV, BPF_MOD]), d, rng.chance(0.3) ? r(rng.pick(regs)) : rng.int(1, 300), w32); break;
        case 2: a.alu(rng.pick([BPF_LSH, BPF_RSH, BPF_ARSH]), d, rng.int(0, w32 ? 31 : 63), w32); break;
        case 3: a.alu(rng.pick([BPF_LSH, BPF_RSH, BPF_ARSH]), d, r(rng.pick(regs)), w32); break;
        case 4: a.neg(d, w32); break;
        case 5: a.endian(d, rng.pick([16, 32, 64] as const), rng.chance(0.5)); break;
        case 6: a.movsx(d, rng.pick(regs), rng.pick([8, 16, 32] as const)); break;
        case 7: a.alu(rng.pick([BPF_DIV, BPF_MOD]), d, rng.int(1, 100), w32, 1); break;
        case 8: a.mov(d, r(rng.pick(regs)), w32); break;
        default: a.ldx(4, d, 6, rng.pick([P.ingress, P.rxq])); break;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shapes

const v = (name: string, expect: Expect): Variant => ({ name, expect });
const CHECK_BROKEN = ['off_by_one', 'wrong_reg', 'missing', 'inverted', 'swapped'] as const;

/** Ethernet: check 14 bytes, read the protocol, sometimes swap the MACs. */
const eth: Shape = {
  name: 'eth',
  decor: true,
  variants: [v('correct', 'safe'), v('correct_rw', 'safe'), ...CHECK_BROKEN.map((n) => v(n, 'unsafe')), v('jmp32', 'any'), v('reload_unchecked', 'any')],
  build(g, variant) {
    const a = g.a;
    g.loadPkt();
    g.checkVariant(variant, 2, 14, 3, 'out');
    if (variant === 'reload_unchecked') a.ldx(4, 2, 6, P.data);
    a.ldx(2, 5, 2, 12);
    if (variant === 'correct_rw') {
      a.ldx(4, 0, 2, 0);
      a.ldx(2, 1, 2, 4);
      a.ldx(4, 4, 2, 6);
      a.ldx(2, 7, 2, 10);
      a.stx(4, 2, 6, 0);
      a.stx(2, 2, 10, 1);
      a.stx(4, 2, 0, 4);
      a.stx(2, 2, 4, 7);
    }
    a.jmp(BPF_JEQ, 5, 0xffff, 'out');
  },
};

/** Ethernet then IPv4: protocol check, 34-byte check, field reads and a TTL write. */
const ipv4: Shape = {
  name: 'ipv4',
  decor: true,
  variants: [v('correct', 'safe'), ...CHECK_BROKEN.map((n) => v(n, 'unsafe')), v('eth_only', 'unsafe')],
  build(g, variant) {
    const a = g.a;
    g.loadPkt();
    g.check(2, 14, 3, 'out');
    a.ldx(2, 5, 2, 12);
    a.jmp(BPF_JNE, 5, ETH_P_IP_LE, 'out');
    if (variant !== 'eth_only') g.checkVariant(variant, 2, 34, 3, 'out');
    else g.hint(34);
    a.ldx(1, 5, 2, 23);
    a.ldx(4, 7, 2, 26);
    a.ldx(4, 8, 2, 30);
    a.ldx(1, 9, 2, 22);
    a.add(9, -1);
    a.stx(1, 2, 22, 9);
    a.alu(BPF_XOR, 7, r(8));
    a.jmp(BPF_JEQ, 5, 0xff, 'out');
  },
};

/** IPv6: 54-byte check, 8-byte address loads, hop-limit write. */
const ipv6: Shape = {
  name: 'ipv6',
  decor: true,
  variants: [v('correct', 'safe'), ...CHECK_BROKEN.map((n) => v(n, 'unsafe'))],
  build(g, variant) {
    const a = g.a;
    g.loadPkt();
    g.check(2, 14, 3, 'out');
    a.ldx(2, 5, 2, 12);
    a.jmp(BPF_JNE, 5, ETH_P_IPV6_LE, 'out');
    g.checkVariant(variant, 2, 54, 3, 'out');
    a.ldx(1, 5, 2, 20);
    a.ldx(8, 7, 2, 22);
    a.ldx(8, 8, 2, 30);
    a.alu(BPF_XOR, 7, r(8));
    a.ldx(8, 8, 2, 38);
    a.ldx(8, 9, 2, 46);
    a.alu(BPF_XOR, 8, r(9));
    a.ldx(1, 9, 2, 21);
    a.jmp(BPF_JLE, 9, 1, 'out');
    a.add(9, -1);
    a.stx(1, 2, 21, 9);
  },
};

/** VLAN: one tag with its own check, or a bounded loop over up to two tags. */
const vlan: Shape = {
  name: 'vlan',
  decor: true,
  variants: [v('correct', 'safe'), v('loop', 'safe'), v('no_recheck', 'unsafe'), v('off_by_one', 'unsafe'), v('loop_no_recheck', 'unsafe'), v('loop_off_by_one', 'unsafe')],
  build(g, variant) {
    const a = g.a;
    g.loadPkt();
    g.check(2, 14, 3, 'out');
    if (variant.startsWith('loop')) {
      // r7 = offset of the current protocol field, r8 = tags seen.
      a.mov(7, 12);
      a.mov(8, 0);
      const top = a.fresh('vlan_loop'), done = a.fresh('vlan_done');
      a.label(top);
      a.mov(1, r(2));
      a.add(1, r(7));
      if (variant === 'loop') g.check(1, 2, 3, 'out', 4);
      else if (variant === 'loop_off_by_one') { g.check(1, 1, 3, 'out', 4); g.hint(16); g.hint(20); }
      else { g.hint(16); g.hint(20); }
      a.ldx(2, 5, 1, 0);
      a.jmp(BPF_JNE, 5, ETH_P_8021Q_LE, done);
      a.add(7, 4);
      a.add(8, 1);
      a.jmp(BPF_JLT, 8, 2, top);
      a.label(done);
      return;
    }
    a.ldx(2, 5, 2, 12);
    const novlan = a.fresh('novlan');
    a.jmp(BPF_JNE, 5, ETH_P_8021Q_LE, novlan);
    if (variant === 'correct') g.check(2, 18, 3, 'out');
    else if (variant === 'off_by_one') g.checkVariant('off_by_one', 2, 18, 3, 'out');
    else g.hint(18);
    a.ldx(2, 5, 2, 16);
    a.ldx(2, 7, 2, 14);
    a.alu(BPF_AND, 7, 0x0fff);
    a.label(novlan);
  },
};

/** IHL*4 variable offset: mask and bound a loaded value, add it to the packet pointer. */
const varoff: Shape = {
  name: 'varoff',
  decor: true,
  variants: [
    v('correct', 'safe'), v('min20', 'safe'), v('nomask_u8', 'safe'),
    // Safe, but the kernel gives a packet pointer range 0 once a variable is added to it.
    v('const_range', 'any'),
    v('no_recheck', 'unsafe'), v('negative', 'unsafe'), v('recheck_short', 'unsafe'), v('const_range_short', 'unsafe'),
    v('unbounded_checked', 'any'), v('unbounded_unchecked', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a;
    g.loadPkt();
    g.check(2, 14, 3, 'out');
    a.ldx(2, 5, 2, 12);
    if (g.rng.chance(0.5)) a.jmp(BPF_JNE, 5, ETH_P_IP_LE, 'out');
    g.check(2, 34, 3, 'out');
    if (variant.startsWith('unbounded')) a.ldx(4, 5, 2, 14);
    else a.ldx(1, 5, 2, 14);
    if (variant !== 'nomask_u8' && !variant.startsWith('unbounded')) a.alu(BPF_AND, 5, 0xf);
    a.alu(BPF_LSH, 5, 2);
    if (variant === 'min20') a.jmp(BPF_JLT, 5, 20, 'out');
    if (variant === 'negative') a.add(5, -24);
    if (variant.startsWith('const_range')) {
      // A constant check covers the largest offset: data + 14 + 60 + 4.
      g.check(2, variant === 'const_range' ? 78 : 77, 3, 'out');
      a.mov(4, r(2));
      a.add(4, 14);
      a.add(4, r(5));
      a.ldx(2, 0, 4, 2);
      a.ldx(2, 1, 4, 0);
      return;
    }
    a.mov(4, r(2));
    a.add(4, 14);
    a.add(4, r(5));
    if (variant !== 'no_recheck' && variant !== 'unbounded_unchecked') {
      a.mov(1, r(4));
      a.add(1, variant === 'recheck_short' ? 3 : 4);
      a.jmp(BPF_JGT, 1, r(3), 'out');
    }
    a.ldx(2, 0, 4, 2);
    a.ldx(2, 1, 4, 0);
    for (let n = 34; n <= 80; n += 4) g.hint(n);
  },
};

/** A chain of bounds-trackable ALU ops on a loaded byte, clamped, used as a packet offset. */
const rangeChain: Shape = {
  name: 'range_chain',
  variants: [v('clamped', 'safe'), v('clamped_const_check', 'any'), v('unsigned_clamp', 'safe'), v('no_signed_clamp', 'unsafe'), v('clamp_off_by_one', 'unsafe'), v('no_clamp', 'unsafe')],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    g.loadPkt();
    g.check(2, 24, 3, 'out');
    a.ldx(rng.pick([1, 2] as const), 5, 2, rng.int(14, 22));
    const steps = rng.int(1, 4);
    for (let i = 0; i < steps; i++) {
      const w32 = rng.chance(0.3);
      switch (rng.int(0, 7)) {
        case 0: a.add(5, rng.int(-40, 40), w32); break;
        case 1: a.alu(BPF_SUB, 5, rng.int(0, 40), w32); break;
        case 2: a.alu(BPF_MUL, 5, rng.int(1, 5), w32); break;
        case 3: a.alu(BPF_AND, 5, rng.int(0, 0xfff), w32); break;
        case 4: a.alu(BPF_RSH, 5, rng.int(0, 6), w32); break;
        case 5: a.alu(BPF_OR, 5, rng.int(0, 7), w32); break;
        case 6: a.alu(BPF_MOD, 5, rng.int(1, 90), w32); break;
        default: a.alu(BPF_LSH, 5, rng.int(0, 3), w32); break;
      }
    }
    const max = 40;
    if (variant === 'no_signed_clamp' || variant === 'no_clamp') a.add(5, -20);
    switch (variant) {
      case 'clamped':
      case 'clamped_const_check':
        a.jmp(BPF_JSLT, 5, 0, 'out');
        a.jmp(BPF_JSGT, 5, max, 'out');
        break;
      case 'unsigned_clamp': a.jmp(BPF_JGT, 5, max, 'out'); break;
      case 'no_signed_clamp': a.jmp(BPF_JSGT, 5, max, 'out'); break;
      case 'clamp_off_by_one':
        a.jmp(BPF_JSLT, 5, 0, 'out');
        a.jmp(BPF_JSGT, 5, max + 1, 'out');
        break;
      default: break;
    }
    if (variant === 'clamped_const_check' || variant === 'clamp_off_by_one') {
      g.check(2, 14 + max + 4, 3, 'out');
      a.mov(4, r(2));
      a.add(4, 14);
      a.add(4, r(5));
      a.ldx(4, 0, 4, 0);
      return;
    }
    a.mov(4, r(2));
    a.add(4, r(5));
    a.mov(1, r(4));
    a.add(1, 4);
    a.jmp(BPF_JGT, 1, r(3), 'out');
    a.ldx(4, 0, 4, 0);
  },
};

function valueSizeFor(g: Gen): number { return g.rng.pick([8, 16, 24, 32, 64]); }

/** Stores `n` bytes at [r10+off] (n a multiple of 4) from immediates. */
function initStack(g: Gen, off: number, n: number): void {
  for (let i = 0; i < n; i += 8) {
    if (n - i >= 8) {
      if (g.rng.chance(0.5)) g.a.st(8, 10, off + i, g.rng.int(-100, 1000));
      else { g.a.mov(1, g.rng.int(0, 1 << 30)); g.a.stx(8, 10, off + i, 1); }
    } else g.a.st(4, 10, off + i, g.rng.int(0, 1000));
  }
}

/** bpf_map_lookup_elem with a null check (or not), then value reads and writes. */
const mapLookup: Shape = {
  name: 'map_lookup',
  decor: true,
  variants: [
    v('correct', 'safe'), v('copy_checked', 'safe'), v('jne_form', 'safe'), v('var_off_masked', 'safe'), v('var_off_bounded', 'safe'),
    v('atomic', 'safe'), v('pkt_key', 'safe'),
    v('no_null_check', 'unsafe'), v('wrong_reg_check', 'unsafe'), v('use_before_check', 'unsafe'), v('value_oob', 'unsafe'),
    v('var_off_unmasked', 'unsafe'), v('var_off_off_by_one', 'unsafe'), v('key_oob', 'unsafe'), v('key_uninit', 'unsafe'),
    v('arith_on_null', 'unsafe'), v('r2_after_call', 'unsafe'),
    // Safe (an in-range constant key of an array always hits); the kernel accepts it since 6.14.
    v('array_no_null_check', 'any'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    g.calls = true;
    // An array lookup with a constant in-range key never returns NULL (newer kernels drop the
    // check): variants about NULL use a hash map, where a miss is always possible.
    const needsNull = ['no_null_check', 'wrong_reg_check', 'use_before_check', 'arith_on_null'].includes(variant);
    const hash = needsNull || variant === 'key_uninit' || (variant !== 'array_no_null_check' && rng.chance(0.5));
    const keySize = hash ? rng.pick([4, 8]) : 4;
    const vs = valueSizeFor(g);
    const maxEntries = hash ? rng.int(1, 8) : rng.pick([1, 1, 2, 4]);
    const key = rng.int(0, Math.max(0, maxEntries - 1));
    const fd = g.addMap(hash ? BPF_MAP_TYPE.BPF_MAP_TYPE_HASH : BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize, vs, maxEntries, [key, 0, 1]);
    const keyOff = keySize === 8 ? -8 : -4;
    if (variant === 'pkt_key') {
      g.loadPkt();
      g.check(2, 15, 3, 'out');
      a.ldx(1, 1, 2, 14);
      a.alu(BPF_AND, 1, 3);
      if (keySize === 8) a.st(8, 10, -8, 0);
      a.stx(4, 10, keyOff, 1);
    } else if (variant === 'key_uninit' && keySize === 8) {
      a.st(4, 10, -8, key);
    } else if (variant === 'key_uninit') {
      a.st(2, 10, -4, key);
    } else {
      if (keySize === 8) a.st(8, 10, -8, key);
      else a.st(4, 10, -4, key);
    }
    a.ldMap(1, fd);
    a.mov(2, r(10));
    a.add(2, variant === 'key_oob' ? keyOff + 2 : keyOff);
    a.call(BPF_FUNC.map_lookup_elem);
    const use = a.fresh('use');
    switch (variant) {
      case 'no_null_check': case 'use_before_check': case 'array_no_null_check': break;
      case 'wrong_reg_check': a.jmp(BPF_JEQ, 1, 0, 'out'); break;
      case 'copy_checked': a.mov(7, r(0)); a.jmp(BPF_JEQ, 7, 0, 'out'); break;
      case 'jne_form': a.jmp(BPF_JNE, 0, 0, use); a.ja('out'); break;
      case 'arith_on_null': a.add(0, 8); a.jmp(BPF_JEQ, 0, 0, 'out'); break;
      default: a.jmp(BPF_JEQ, 0, 0, 'out'); break;
    }
    a.label(use);
    const slot = rng.int(0, vs / 8 - 1) * 8;
    switch (variant) {
      case 'value_oob': a.ldx(4, 1, 0, vs - 2); break;
      case 'atomic':
        a.mov(1, 1);
        a.atomicAdd(8, 0, slot, 1);
        if (rng.chance(0.5)) a.atomicAdd(4, 0, vs - 4, 1);
        break;
      case 'r2_after_call':
        a.ldx(8, 1, 2, 0);
        g.retReg = 1;
        g.noPostDecor = true;
        break;
      case 'var_off_masked': case 'var_off_bounded': case 'var_off_unmasked': case 'var_off_off_by_one': {
        // The index comes from the value itself (map contents are random).
        a.ldx(1, 1, 0, 0);
        const mask: Record<number, number> = { 8: 0, 16: 0x8, 24: 0x10, 32: 0x18, 64: 0x38 };
        if (variant === 'var_off_masked') a.alu(BPF_AND, 1, mask[vs] ?? 0);
        else if (variant === 'var_off_bounded') { a.jmp(BPF_JGT, 1, vs - 8, 'out'); }
        else if (variant === 'var_off_off_by_one') { a.jmp(BPF_JGT, 1, vs - 7, 'out'); }
        a.mov(4, r(0));
        a.add(4, r(1));
        a.ldx(8, 5, 4, 0);
        a.add(5, 1);
        a.stx(8, 4, 0, 5);
        break;
      }
      default: {
        a.ldx(8, 1, 0, slot);
        a.add(1, 1);
        a.stx(8, 0, slot, 1);
        a.st(4, 0, vs - 4, 7);
        if (variant === 'use_before_check') a.jmp(BPF_JEQ, 0, 0, 'out');
      }
    }
    if (variant === 'copy_checked') a.ldx(1, 1, 7, vs - 1);
  },
};

/** bpf_map_update_elem / delete_elem with stack (or map value, or packet) buffers. */
const mapUpdate: Shape = {
  name: 'map_update',
  decor: true,
  variants: [
    v('correct', 'safe'), v('delete', 'safe'), v('update_if_missing', 'safe'), v('value_from_map', 'safe'), v('value_from_pkt', 'safe'),
    v('flags_from_pkt', 'safe'),
    v('value_uninit', 'unsafe'), v('value_short', 'unsafe'), v('value_from_pkt_unchecked', 'unsafe'), v('key_r10_plus', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    g.calls = true;
    const hash = variant === 'update_if_missing' || rng.chance(0.6);
    const vs = variant === 'value_from_map' ? 16 : valueSizeFor(g);
    const maxEntries = rng.int(1, 6);
    const key = rng.int(0, maxEntries - 1);
    const fd = g.addMap(hash ? BPF_MAP_TYPE.BPF_MAP_TYPE_HASH : BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, vs, maxEntries, [key]);
    a.st(4, 10, -4, key);
    // value buffer at [r10 - 8 - vs, r10 - 8)
    const vOff = -8 - vs;
    if (variant === 'value_uninit') {
      initStack(g, vOff, vs - 8);
    } else if (variant !== 'value_short') {
      initStack(g, vOff, vs);
    }
    if (variant === 'delete') {
      a.ldMap(1, fd);
      a.mov(2, r(10));
      a.add(2, -4);
      a.call(BPF_FUNC.map_delete_elem);
      return;
    }
    if (variant === 'update_if_missing') {
      const have = a.fresh('have');
      a.ldMap(1, fd);
      a.mov(2, r(10));
      a.add(2, -4);
      a.call(BPF_FUNC.map_lookup_elem);
      a.jmp(BPF_JNE, 0, 0, have);
      a.ldMap(1, fd);
      a.mov(2, r(10));
      a.add(2, -4);
      a.mov(3, r(10));
      a.add(3, vOff);
      a.mov(4, 1); // BPF_NOEXIST
      a.call(BPF_FUNC.map_update_elem);
      a.ldMap(1, fd);
      a.mov(2, r(10));
      a.add(2, -4);
      a.call(BPF_FUNC.map_lookup_elem);
      a.jmp(BPF_JEQ, 0, 0, 'out');
      a.label(have);
      a.ldx(8, 1, 0, 0);
      a.add(1, 1);
      a.stx(8, 0, 0, 1);
      return;
    }
    let valueReg = 3;
    if (variant === 'value_from_map') {
      // Another map's value (same size) is the update's value.
      const fd2 = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, vs, 1, [0]);
      a.st(4, 10, -8, 0);
      a.ldMap(1, fd2);
      a.mov(2, r(10));
      a.add(2, -8);
      a.call(BPF_FUNC.map_lookup_elem);
      a.jmp(BPF_JEQ, 0, 0, 'out');
      a.mov(7, r(0));
      valueReg = 7;
    } else if (variant === 'value_from_pkt' || variant === 'value_from_pkt_unchecked') {
      g.loadPkt(7, 8);
      if (variant === 'value_from_pkt') g.check(7, 14 + vs, 8, 'out', 1);
      else { g.check(7, 14, 8, 'out', 1); g.hint(14 + vs); }
      a.add(7, 14);
      valueReg = 7;
    }
    if (variant === 'flags_from_pkt') {
      g.loadPkt(7, 8);
      g.check(7, 15, 8, 'out', 1);
      a.ldx(1, 9, 7, 14);
      a.alu(BPF_AND, 9, 3);
    }
    a.ldMap(1, fd);
    a.mov(2, r(10));
    a.add(2, variant === 'key_r10_plus' ? -2 : -4);
    if (valueReg === 3) {
      a.mov(3, r(10));
      // value_short: the value would run past the top of the frame.
      a.add(3, variant === 'value_short' ? -4 : vOff);
    } else a.mov(3, r(valueReg));
    if (variant === 'flags_from_pkt') a.mov(4, r(9));
    else a.mov(4, rng.pick([0, 0, 1, 2]));
    a.call(BPF_FUNC.map_update_elem);
  },
};

/** Stack writes then reads: sizes, slots, variable offsets, and reads of what was never written. */
const stack: Shape = {
  name: 'stack',
  decor: true,
  variants: [
    v('correct', 'safe'), v('narrow_reads', 'safe'), v('var_off', 'safe'),
    v('uninit', 'unsafe'), v('partial', 'unsafe'), v('oob_top', 'unsafe'), v('oob_bottom', 'unsafe'), v('var_off_unbounded', 'unsafe'),
    v('var_off_uninit', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    const base = -rng.pick([16, 32, 64, 128, 256]);
    switch (variant) {
      case 'correct':
        initStack(g, base, -base);
        a.ldx(8, 0, 10, base + rng.int(0, -base / 8 - 1) * 8);
        a.ldx(8, 1, 10, base);
        a.alu(BPF_ADD, 0, r(1));
        break;
      case 'narrow_reads':
        initStack(g, base, 16);
        a.ldx(4, 0, 10, base + 4);
        a.ldx(2, 1, 10, base + 10);
        a.ldx(1, 1, 10, base + 15);
        break;
      case 'uninit':
        initStack(g, base, 8);
        a.ldx(8, 7, 10, base + 8);
        g.retReg = 7;
        g.noPostDecor = true;
        break;
      case 'partial':
        a.st(4, 10, base, 1);
        a.ldx(8, 7, 10, base);
        a.alu(BPF_RSH, 7, 32);
        g.retReg = 7;
        g.noPostDecor = true;
        break;
      case 'oob_top': a.st(8, 10, rng.pick([0, 8, -4]), 1); break;
      case 'oob_bottom': a.ldx(8, 0, 10, -520); a.mov(7, r(0)); break;
      default: {
        // var_off*: index from the packet (or ctx), masked to stay inside a 64-byte buffer.
        initStack(g, -64, variant === 'var_off_uninit' ? 32 : 64);
        g.loadPkt();
        g.check(2, 15, 3, 'out');
        a.ldx(1, 1, 2, 14);
        a.alu(BPF_AND, 1, variant === 'var_off_unbounded' ? 0xff : 0x38);
        if (variant === 'var_off_uninit') a.alu(BPF_OR, 1, 0x20);
        a.mov(4, r(10));
        a.add(4, -64);
        a.add(4, r(1));
        a.ldx(8, 7, 4, 0);
        g.retReg = 7;
        g.noPostDecor = true;
      }
    }
  },
};

/** Spill a pointer to the stack, clobber, fill it back and use it. */
const spill: Shape = {
  name: 'spill',
  decor: true,
  variants: [
    v('pkt', 'safe'), v('pkt_across_call', 'safe'), v('spill_before_check', 'safe'), v('map_or_null', 'safe'), v('ctx', 'safe'),
    v('partial_overwrite', 'unsafe'), v('fill_32', 'unsafe'), v('after_adjust_head', 'unsafe'), v('map_or_null_unchecked', 'unsafe'),
    v('scalar_over_ptr', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    const slot = -8 * rng.int(2, 8);
    if (variant === 'ctx') {
      a.stx(8, 10, slot, 6);
      a.mov(6, 0);
      a.ldx(8, 6, 10, slot);
      a.ldx(4, 2, 6, P.data);
      return;
    }
    if (variant === 'map_or_null' || variant === 'map_or_null_unchecked') {
      g.calls = true;
      const fd = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, 4, 8, 4, [0, 1]);
      a.st(4, 10, -4, rng.int(0, 1));
      a.ldMap(1, fd);
      a.mov(2, r(10));
      a.add(2, -4);
      a.call(BPF_FUNC.map_lookup_elem);
      a.stx(8, 10, slot, 0);
      if (variant === 'map_or_null') a.jmp(BPF_JEQ, 0, 0, 'out');
      a.mov(0, 0);
      a.ldx(8, 1, 10, slot);
      a.ldx(8, 0, 1, 0);
      return;
    }
    g.loadPkt();
    if (variant === 'spill_before_check') {
      a.stx(8, 10, slot, 2);
      g.check(2, 14, 3, 'out');
    } else {
      g.check(2, 14, 3, 'out');
      a.stx(8, 10, slot, 2);
    }
    switch (variant) {
      case 'pkt_across_call': case 'after_adjust_head': g.calls = true; break;
      default: break;
    }
    if (variant === 'pkt_across_call') a.call(BPF_FUNC.get_smp_processor_id);
    if (variant === 'after_adjust_head') {
      a.mov(1, r(6));
      a.mov(2, rng.pick([8, 14, 4]));
      a.call(BPF_FUNC.xdp_adjust_head);
    }
    a.mov(2, 0);
    if (variant === 'partial_overwrite') { a.st(1, 10, slot, 0x40); g.hint(64 + 14); }
    if (variant === 'scalar_over_ptr') { a.mov(1, 300); a.stx(8, 10, slot, 1); }
    if (variant === 'fill_32') a.ldx(4, 2, 10, slot);
    else a.ldx(8, 2, 10, slot);
    a.ldx(1, 0, 2, 13);
    a.ldx(4, 1, 2, 8);
  },
};

/** Loops with a constant bound: over a stack array, over packet bytes, and ones that never end. */
const loopConst: Shape = {
  name: 'loop_const',
  variants: [
    v('stack_array', 'safe'), v('pkt_bytes', 'safe'), v('down_count', 'safe'), v('jmp32_bound', 'safe'),
    v('stack_off_by_one', 'unsafe'), v('pkt_no_recheck', 'unsafe'), v('infinite_no_step', 'unsafe'), v('infinite_odd_step', 'unsafe'),
    v('infinite_reset', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    const n = rng.int(2, 12);
    const top = a.fresh('loop'), done = a.fresh('loop_done');
    if (variant === 'stack_array' || variant === 'stack_off_by_one' || variant === 'jmp32_bound') {
      // u64 arr[n] at r10 - 8n; sum it.
      initStack(g, -8 * n, 8 * n);
      a.mov(7, 0);
      a.mov(8, 0);
      a.label(top);
      a.mov(1, r(7));
      a.alu(BPF_LSH, 1, 3);
      a.mov(4, r(10));
      a.add(4, -8 * n);
      a.add(4, r(1));
      a.ldx(8, 5, 4, 0);
      a.add(8, r(5));
      a.add(7, 1);
      if (variant === 'stack_off_by_one') a.jmp(BPF_JLE, 7, n, top);
      else a.jmp(BPF_JLT, 7, n, top, variant === 'jmp32_bound');
      a.label(done);
      return;
    }
    if (variant === 'down_count') {
      a.mov(7, n);
      a.mov(8, 0);
      a.label(top);
      a.add(8, r(7));
      a.add(7, -1);
      a.jmp(BPF_JNE, 7, 0, top);
      return;
    }
    if (variant.startsWith('infinite')) {
      a.mov(7, 0);
      a.mov(8, 0);
      a.label(top);
      a.add(8, 3);
      if (variant === 'infinite_no_step') {
        a.add(7, 0);
        a.jmp(BPF_JLT, 7, n, top);
      } else if (variant === 'infinite_odd_step') {
        a.add(7, 2);
        a.jmp(BPF_JNE, 7, 2 * n + 1, top);
      } else {
        // i goes back to 0 whenever it reaches n - 1, so it never reaches n.
        const cont = a.fresh('cont');
        a.add(7, 1);
        a.jmp(BPF_JLT, 7, n - 1, cont);
        a.mov(7, 0);
        a.label(cont);
        a.jmp(BPF_JLT, 7, n, top);
      }
      return;
    }
    // pkt_bytes / pkt_no_recheck: sum the first n bytes after the Ethernet header.
    g.loadPkt();
    g.check(2, 14, 3, 'out');
    a.mov(7, 0);
    a.mov(8, 0);
    a.label(top);
    a.mov(1, r(2));
    a.add(1, 14);
    a.add(1, r(7));
    if (variant === 'pkt_bytes') g.check(1, 1, 3, done, 4);
    else g.hint(14 + n);
    a.ldx(1, 5, 1, 0);
    a.add(8, r(5));
    a.add(7, 1);
    a.jmp(BPF_JLT, 7, n, top);
    a.label(done);
  },
};

/** Loops whose trip count comes from the packet or a map. */
const loopData: Shape = {
  name: 'loop_data',
  variants: [
    v('masked', 'safe'), v('u8_bound', 'safe'), v('from_map', 'safe'), v('checked_down', 'safe'),
    v('pkt_no_recheck', 'unsafe'), v('u32_bound', 'unsafe'), v('down_from_zero', 'unsafe'), v('from_map_unmasked', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a;
    const top = a.fresh('dloop'), done = a.fresh('dloop_done');
    if (variant === 'from_map' || variant === 'from_map_unmasked') {
      g.calls = true;
      const fd = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 8, 1, [0]);
      a.st(4, 10, -4, 0);
      a.ldMap(1, fd);
      a.mov(2, r(10));
      a.add(2, -4);
      a.call(BPF_FUNC.map_lookup_elem);
      a.jmp(BPF_JEQ, 0, 0, 'out');
      a.ldx(variant === 'from_map' ? 1 : 8, 9, 0, 0);
      if (variant === 'from_map') a.alu(BPF_AND, 9, 0x1f);
    } else {
      g.loadPkt();
      g.check(2, 15, 3, 'out');
      if (variant === 'u32_bound') { g.check(2, 18, 3, 'out'); a.ldx(4, 9, 2, 14); }
      else a.ldx(1, 9, 2, 14);
      if (variant === 'masked' || variant === 'pkt_no_recheck') a.alu(BPF_AND, 9, 0xf);
    }
    a.mov(7, 0);
    a.mov(8, 0);
    if (variant === 'checked_down' || variant === 'down_from_zero') {
      if (variant === 'checked_down') a.jmp(BPF_JEQ, 9, 0, done);
      a.label(top);
      a.add(8, r(9));
      a.add(9, -1);
      a.jmp(BPF_JNE, 9, 0, top);
      a.label(done);
      return;
    }
    a.label(top);
    a.jmp(BPF_JGE, 7, r(9), done);
    if (variant === 'masked' || variant === 'pkt_no_recheck') {
      // Read byte 15 + i.
      a.mov(1, r(2));
      a.add(1, 15);
      a.add(1, r(7));
      if (variant === 'masked') g.check(1, 1, 3, done, 4);
      else g.hint(31);
      a.ldx(1, 5, 1, 0);
      a.add(8, r(5));
    } else {
      a.add(8, r(7));
      a.alu(BPF_XOR, 8, 0x55);
    }
    a.add(7, 1);
    a.ja(top);
    a.label(done);
  },
};

/** Pointer arithmetic, allowed and not. */
const ptrArith: Shape = {
  name: 'ptr_arith',
  variants: [
    v('pkt_len', 'safe'), v('map_value_const', 'safe'), v('stack_ptr', 'safe'), v('pkt_sub_const', 'safe'),
    v('pkt_end_plus', 'unsafe'), v('ptr_mul', 'unsafe'), v('ptr_or', 'unsafe'), v('ptr_plus_ptr', 'unsafe'), v('ptr_alu32', 'unsafe'),
    v('ptr_neg', 'unsafe'), v('map_value_unbounded', 'unsafe'), v('pkt_minus_pkt_deref', 'unsafe'), v('pkt_sub_below', 'unsafe'),
    v('modified_ctx', 'any'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    if (variant === 'map_value_const' || variant === 'map_value_unbounded') {
      g.calls = true;
      const fd = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 32, 1, [0]);
      a.st(4, 10, -4, 0);
      a.ldMap(1, fd);
      a.mov(2, r(10));
      a.add(2, -4);
      a.call(BPF_FUNC.map_lookup_elem);
      a.jmp(BPF_JEQ, 0, 0, 'out');
      if (variant === 'map_value_const') {
        a.add(0, 16);
        a.ldx(8, 1, 0, 8);
        a.add(0, -8);
        a.stx(8, 0, 0, 1);
      } else {
        a.ldx(4, 1, 0, 0);
        a.add(0, r(1));
        a.ldx(8, 1, 0, 0);
      }
      return;
    }
    if (variant === 'stack_ptr') {
      a.mov(1, r(10));
      a.add(1, -32);
      a.st(8, 1, 8, 5);
      a.add(1, 8);
      a.ldx(8, 0, 1, 0);
      return;
    }
    if (variant === 'modified_ctx') {
      a.mov(1, r(6));
      a.add(1, 4);
      a.ldx(4, 0, 1, 0);
      return;
    }
    g.loadPkt();
    switch (variant) {
      case 'pkt_len':
        // len = data_end - data, masked and used as an offset: data + (len & 7) after a check.
        a.mov(5, r(3));
        a.alu(BPF_SUB, 5, r(2));
        a.alu(BPF_AND, 5, 7);
        a.mov(4, r(2));
        a.add(4, r(5));
        a.mov(1, r(4));
        a.add(1, 1);
        a.jmp(BPF_JGT, 1, r(3), 'out');
        a.ldx(1, 0, 4, 0);
        return;
      case 'pkt_sub_const':
      case 'pkt_sub_below':
        g.check(2, 20, 3, 'out');
        a.mov(4, r(2));
        a.add(4, 16);
        a.add(4, -8);
        a.ldx(4, 0, 4, variant === 'pkt_sub_const' ? 0 : -12);
        return;
      case 'pkt_end_plus':
        a.add(3, rng.pick([1, 2, 8]));
        g.check(2, 14, 3, 'out');
        a.ldx(2, 0, 2, 12);
        return;
      default: break;
    }
    g.check(2, 14, 3, 'out');
    switch (variant) {
      case 'ptr_mul': a.alu(BPF_MUL, 2, 2); break;
      case 'ptr_or': a.alu(BPF_OR, 2, 0x800); break;
      case 'ptr_plus_ptr': a.alu(BPF_ADD, 2, r(3)); break;
      case 'ptr_alu32': a.add(2, 1, true); break;
      case 'ptr_neg': a.neg(2); break;
      case 'pkt_minus_pkt_deref': a.alu(BPF_SUB, 2, r(3)); break;
      default: break;
    }
    a.ldx(1, 0, 2, 0);
  },
};

/** xdp_adjust_head / tail / meta followed by a re-check (or not). */
const adjust: Shape = {
  name: 'adjust',
  decor: true,
  variants: [
    v('head_recheck', 'safe'), v('tail_recheck', 'safe'), v('meta_checked', 'safe'), v('head_grow_write', 'safe'),
    v('head_stale', 'unsafe'), v('head_reload_no_recheck', 'unsafe'), v('tail_stale', 'unsafe'), v('meta_unchecked', 'unsafe'),
    v('meta_short_check', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    g.calls = true;
    if (variant.startsWith('meta')) {
      const len = rng.pick([4, 8]);
      if (variant !== 'meta_unchecked') {
        a.mov(1, r(6));
        a.mov(2, -len);
        a.call(BPF_FUNC.xdp_adjust_meta);
        a.jmp(BPF_JNE, 0, 0, 'out');
      }
      a.ldx(4, 2, 6, P.dataMeta);
      a.ldx(4, 3, 6, P.data);
      if (variant === 'meta_checked') g.check(2, len, 3, 'out');
      else if (variant === 'meta_short_check') g.check(2, len - 2, 3, 'out');
      a.st(4, 2, len - 4, 0x1234);
      return;
    }
    g.loadPkt();
    g.check(2, 34, 3, 'out');
    a.ldx(2, 7, 2, 12);
    a.mov(8, r(2));
    const isTail = variant.startsWith('tail');
    const delta = isTail ? -rng.pick([4, 10, 20, 40]) : variant === 'head_grow_write' ? -rng.pick([4, 14, 16]) : rng.pick([4, 14, 20]);
    a.mov(1, r(6));
    a.mov(2, delta);
    a.call(isTail ? BPF_FUNC.xdp_adjust_tail : BPF_FUNC.xdp_adjust_head);
    if (rng.chance(0.5)) a.jmp(BPF_JNE, 0, 0, 'out');
    switch (variant) {
      case 'head_recheck': case 'tail_recheck': case 'head_grow_write':
        g.loadPkt();
        g.check(2, 34, 3, 'out');
        if (variant === 'head_grow_write') a.stx(2, 2, 12, 7);
        a.ldx(4, 0, 2, 30);
        return;
      case 'head_reload_no_recheck':
        g.loadPkt();
        a.ldx(4, 0, 2, 30);
        return;
      default:
        // Stale: r8 is a copy of data taken before the call, checked for 34 bytes back then.
        a.ldx(4, 0, 8, variant === 'head_stale' ? 0 : 30);
        return;
    }
  },
};

/** bpf_csum_diff over stack buffers or packet bytes. */
const csum: Shape = {
  name: 'csum',
  decor: true,
  variants: [
    v('stack', 'safe'), v('pkt_checked', 'safe'), v('var_size', 'safe'), v('null_from', 'safe'),
    v('size_too_big', 'unsafe'), v('uninit', 'unsafe'), v('pkt_unchecked', 'unsafe'), v('var_size_unbounded', 'unsafe'),
    v('result_as_offset', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    g.calls = true;
    const n = rng.pick([4, 8, 16]);
    switch (variant) {
      case 'stack': case 'size_too_big': case 'uninit': case 'result_as_offset':
        if (variant === 'uninit') initStack(g, -16, n - 4); // the last 4 bytes read are never written
        else initStack(g, -16, 16);
        initStack(g, -48, 32);
        a.mov(1, r(10));
        a.add(1, -16);
        a.mov(2, variant === 'size_too_big' ? n + 16 : n);
        a.mov(3, r(10));
        a.add(3, -48);
        a.mov(4, 32);
        a.mov(5, rng.int(0, 0xffff));
        break;
      case 'null_from':
        initStack(g, -16, 16);
        a.mov(1, 0);
        a.mov(2, 0);
        a.mov(3, r(10));
        a.add(3, -16);
        a.mov(4, n);
        a.mov(5, 0);
        break;
      case 'pkt_checked': case 'pkt_unchecked':
        g.loadPkt();
        g.check(2, variant === 'pkt_checked' ? 34 : 14, 3, 'out');
        g.hint(34);
        a.mov(1, r(2));
        a.add(1, 14);
        a.mov(2, 20);
        a.mov(3, 0);
        a.mov(4, 0);
        a.mov(5, 0);
        break;
      default: {
        // size from the packet: & 0x1c (0..28 step 4) into a 32-byte buffer, or & 0xfc.
        initStack(g, -32, 32);
        g.loadPkt();
        g.check(2, 15, 3, 'out');
        a.ldx(1, 2, 2, 14);
        a.alu(BPF_AND, 2, variant === 'var_size' ? 0x1c : 0xfc);
        a.mov(1, r(10));
        a.add(1, -32);
        a.mov(3, 0);
        a.mov(4, 0);
        a.mov(5, 0);
      }
    }
    a.call(BPF_FUNC.csum_diff);
    a.mov(7, r(0));
    if (variant === 'result_as_offset') {
      // The helper returns an unknown scalar: no bounds to index the stack with.
      a.alu(BPF_AND, 7, 0xff8);
      a.mov(4, r(10));
      a.add(4, -48);
      a.add(4, r(7));
      a.ldx(8, 7, 4, 0);
    }
    if (variant === 'uninit') { g.retReg = 7; g.noPostDecor = true; }
  },
};

/** bpf-to-bpf calls passing stack and packet pointers. */
const subprog: Shape = {
  name: 'subprog',
  decor: true,
  variants: [
    v('stack_buf', 'safe'), v('pkt_caller_checked', 'safe'), v('pkt_callee_checked', 'safe'), v('nested', 'safe'), v('ctx_arg', 'safe'),
    v('stack_buf_oob', 'unsafe'), v('pkt_unchecked', 'unsafe'), v('return_stack_ptr', 'unsafe'), v('callee_reads_r6', 'unsafe'),
    v('caller_reads_r1', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    const fn = a.fresh('fn');
    const fn2 = a.fresh('fn2');
    switch (variant) {
      case 'stack_buf': case 'stack_buf_oob': case 'nested':
        initStack(g, -16, 16);
        a.mov(1, r(10));
        a.add(1, -16);
        a.mov(2, rng.int(0, 100));
        a.callLocal(fn);
        a.mov(7, r(0));
        g.subprogs.push(() => {
          a.label(fn);
          a.ldx(8, 0, 1, variant === 'stack_buf_oob' ? 16 : 8);
          a.add(0, r(2));
          a.stx(8, 1, 0, 0);
          if (variant === 'nested') {
            a.mov(6, r(0));
            a.callLocal(fn2);
            a.add(0, r(6));
          }
          a.exit();
          if (variant === 'nested') {
            a.label(fn2);
            a.st(8, 10, -8, 3);
            a.mov(1, r(10));
            a.add(1, -8);
            a.ldx(8, 0, 1, 0);
            a.exit();
          }
        });
        return;
      case 'ctx_arg':
        a.mov(1, r(6));
        a.callLocal(fn);
        a.mov(7, r(0));
        g.subprogs.push(() => {
          a.label(fn);
          a.ldx(4, 2, 1, P.data);
          a.ldx(4, 3, 1, P.dataEnd);
          a.mov(0, r(3));
          a.alu(BPF_SUB, 0, r(2));
          a.exit();
        });
        return;
      case 'return_stack_ptr':
        a.callLocal(fn);
        a.ldx(8, 7, 0, 0);
        g.subprogs.push(() => {
          a.label(fn);
          a.st(8, 10, -8, 1);
          a.mov(0, r(10));
          a.add(0, -8);
          a.exit();
        });
        return;
      case 'callee_reads_r6':
        a.mov(1, 1);
        a.callLocal(fn);
        a.mov(7, r(0));
        g.subprogs.push(() => {
          a.label(fn);
          a.ldx(4, 0, 6, P.data);
          a.exit();
        });
        return;
      case 'caller_reads_r1':
        a.mov(1, r(10));
        a.add(1, -8);
        a.st(8, 10, -8, 1);
        a.callLocal(fn);
        a.ldx(8, 7, 1, 0);
        g.subprogs.push(() => {
          a.label(fn);
          a.mov(0, 0);
          a.exit();
        });
        return;
      default: {
        // packet pointers passed as arguments
        g.loadPkt(1, 2);
        if (variant === 'pkt_caller_checked') g.check(1, 14, 2, 'out', 4);
        g.hint(14);
        a.callLocal(fn);
        a.mov(7, r(0));
        g.subprogs.push(() => {
          a.label(fn);
          const bad = a.fresh('bad');
          if (variant === 'pkt_callee_checked') g.check(1, 14, 2, bad, 4);
          a.ldx(2, 0, 1, 12);
          a.exit();
          if (variant === 'pkt_callee_checked') {
            a.label(bad);
            a.mov(0, 0);
            a.exit();
          }
        });
      }
    }
  },
};

/** 32-bit ALU on packet-derived scalars used as offsets. */
const alu32: Shape = {
  name: 'alu32',
  decor: true,
  variants: [v('masked', 'safe'), v('zext_then_check', 'safe'), v('movsx_bounded', 'safe'), v('wrap_unchecked', 'any'), v('sign_ext_negative', 'unsafe'), v('upper_garbage', 'unsafe')],
  build(g, variant) {
    const a = g.a;
    g.loadPkt();
    g.check(2, 16, 3, 'out');
    a.ldx(2, 5, 2, 14);
    switch (variant) {
      case 'masked':
        a.alu(BPF_AND, 5, 0x3f, true);
        a.add(5, 2, true);
        break;
      case 'zext_then_check':
        a.add(5, -10, true);
        a.jmp(BPF_JGT, 5, 64, 'out');
        break;
      case 'movsx_bounded':
        a.movsx(5, 5, 8);
        a.jmp(BPF_JSLT, 5, 0, 'out');
        a.jmp(BPF_JSGT, 5, 100, 'out');
        break;
      case 'wrap_unchecked':
        a.alu(BPF_AND, 5, 0x3f, true);
        a.alu(BPF_SUB, 5, 10, true);
        break;
      case 'sign_ext_negative':
        a.movsx(5, 5, 8);
        a.jmp(BPF_JSGT, 5, 100, 'out');
        break;
      default:
        // bound checked as 32-bit only; the upper half came from a 64-bit negative.
        a.alu(BPF_AND, 5, 0x3f);
        a.ld64(1, 0xffffffff00000000n);
        a.alu(BPF_OR, 5, r(1));
        a.jmp(BPF_JGT, 5, 60, 'out', true);
        break;
    }
    a.mov(4, r(2));
    a.add(4, r(5));
    // Only the upper end is checked: enough when the offset cannot be negative.
    a.mov(1, r(4));
    a.add(1, 2);
    a.jmp(BPF_JGT, 1, r(3), 'out');
    a.ldx(2, 0, 4, 0);
    for (let n = 14; n < 120; n += 8) g.hint(n);
  },
};

/** Random ALU noise on scalars, then a masked value used as an offset. */
const noise: Shape = {
  name: 'noise',
  decor: true,
  variants: [v('scalars_only', 'safe'), v('masked_offset', 'safe'), v('unmasked_offset', 'unsafe'), v('uninit_reg', 'unsafe')],
  build(g, variant) {
    const a = g.a;
    if (variant === 'uninit_reg') {
      // r4 is never written before this read (r1 is the context, r6 its copy).
      a.mov(7, r(g.rng.pick([0, 2, 3, 4, 5])));
      g.retReg = 7;
      g.noPreDecor = true;
      g.noPostDecor = true;
      return;
    }
    g.noise(g.rng.int(4, 24));
    g.retReg = g.rng.pick([7, 8, 9]);
    if (variant === 'scalars_only') return;
    g.loadPkt();
    if (variant === 'masked_offset') a.alu(BPF_AND, 7, 0x1f);
    a.mov(4, r(2));
    a.add(4, r(7));
    a.mov(1, r(4));
    a.add(1, 1);
    a.jmp(BPF_JGT, 1, r(3), 'out');
    a.ldx(1, 7, 4, 0);
    g.retReg = 7;
  },
};


/**
 * Two paths that join: each sets a register (or a stack slot, or a pointer's proven range) in its
 * own way, and the code after the join uses it. Exercises state pruning and precision: a verifier
 * that prunes the second path against the first when they differ in what matters is unsound.
 * The side that is unsafe in broken variants is on either side of the branch.
 */
const diamond: Shape = {
  name: 'diamond',
  decor: true,
  variants: [
    v('const_safe', 'safe'), v('spill_safe', 'safe'), v('range_safe', 'safe'), v('ptr_ranges_safe', 'safe'), v('stack_init_safe', 'safe'),
    v('null_safe', 'safe'), v('w32_safe', 'safe'), v('callee_safe', 'safe'), v('loop_offset_safe', 'safe'), v('ptr_types_safe', 'safe'),
    v('const_unsafe', 'unsafe'), v('spill_unsafe', 'unsafe'), v('range_unsafe', 'unsafe'), v('ptr_ranges_unsafe', 'unsafe'),
    v('stack_init_unsafe', 'unsafe'), v('null_unsafe', 'unsafe'), v('w32_unsafe', 'unsafe'), v('callee_unsafe', 'unsafe'),
    v('loop_offset_unsafe', 'unsafe'), v('ptr_scalar', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    const unsafe = variant.endsWith('_unsafe') || variant === 'ptr_scalar';
    const kind = variant.replace(/_(safe|unsafe)$/, '');
    // r9 = lookup result (before the packet loads: the call clobbers r1-r5)
    if (kind === 'null') {
      g.calls = true;
      const fd = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, 4, 8, 2, [0, 1]);
      a.st(4, 10, -4, rng.int(0, 1));
      a.ldMap(1, fd);
      a.mov(2, r(10));
      a.add(2, -4);
      a.call(BPF_FUNC.map_lookup_elem);
      a.mov(9, r(0));
    }
    g.loadPkt();
    g.check(2, 20, 3, 'out');
    const at = rng.int(14, 19);
    a.ldx(1, 5, 2, at);
    // The value the paths use comes from another byte than the one they branch on, so the branch
    // does not constrain it.
    a.ldx(1, 8, 2, at === 19 ? 14 : at + 1);
    const cut = rng.pick([0, 1, 0x40, 0x7f, 0x80, 0xfe]);
    // range: a variable offset into 32 initialised stack bytes at r10-32 (packet pointers lose
    // their proven range when a variable is added, so the stack is where such offsets live).
    if (kind === 'range') initStack(g, -32, 32);
    // side(bad): the code of one path; `bad` says whether this is the path that breaks the rule.
    const side = (bad: boolean): void => {
      const b = bad && unsafe;
      switch (kind) {
        case 'const': a.mov(7, b ? 40 : rng.pick([0, 4, 12, 16])); break;
        case 'spill':
          if (rng.chance(0.5)) a.st(8, 10, -16, b ? 40 : rng.int(0, 16));
          else { a.mov(1, b ? 40 : rng.int(0, 16)); a.stx(8, 10, -16, 1); }
          break;
        case 'range': a.mov(7, r(8)); a.alu(BPF_AND, 7, b ? 0x38 : rng.pick([0x8, 0x10, 0x18])); break;
        case 'ptr_ranges':
          // Both paths hold data; the good one proves 40 bytes, the bad one only the 20 proven before.
          a.mov(7, r(2));
          if (!b) g.check(7, 40, 3, 'out', 4);
          break;
        case 'stack_init':
          a.st(8, 10, -24, 7);
          if (!b) a.st(8, 10, -32, 9);
          break;
        case 'null':
          if (!b) a.jmp(BPF_JEQ, 9, 0, 'out');
          break;
        case 'w32':
          if (bad) {
            a.ld64(7, 0x100000004n);
            if (!b) a.mov(7, r(7), true); // w7 = w7 clears the upper half
          } else a.mov(7, 4, true);
          break;
        case 'ptr_types':
          // Both paths leave a pointer with 20 proven bytes in r7: data itself, or data re-loaded and re-checked.
          if (bad) { a.ldx(4, 7, 6, P.data); g.check(7, 20, 3, 'out', 4); } else a.mov(7, r(2));
          break;
        case 'ptr_scalar':
          if (b) a.mov(7, rng.pick([0, 64, 4096])); else a.mov(7, r(2));
          break;
        default: break;
      }
    };
    if (kind === 'callee' || kind === 'loop_offset') {
      if (kind === 'callee') {
        const fn = a.fresh('fn');
        a.mov(1, r(5));
        a.callLocal(fn);
        a.mov(7, r(0));
        g.subprogs.push(() => {
          const big = a.fresh('big');
          a.label(fn);
          a.jmp(BPF_JGT, 1, cut, big);
          a.mov(0, rng.pick([0, 4, 8]));
          a.exit();
          a.label(big);
          a.mov(0, unsafe ? 40 : 16);
          a.exit();
        });
        // The call clobbered r2/r3.
        g.loadPkt();
        g.check(2, 20, 3, 'out');
      } else {
        // r7 += 4 for (r5 & 3) + 1 iterations (unsafe: & 7): at most 16 (unsafe: 32) bytes in.
        const top = a.fresh('dl');
        a.mov(7, 0);
        a.mov(8, r(5));
        a.alu(BPF_AND, 8, unsafe ? 7 : 3);
        a.label(top);
        a.add(7, 4);
        a.add(8, -1);
        a.jmp(BPF_JSGE, 8, 0, top);
        a.add(7, -4);
      }
      a.mov(4, r(2));
      a.add(4, r(7));
      a.ldx(4, 0, 4, 0);
      return;
    }
    const right = a.fresh('d_right'), join = a.fresh('d_join');
    const badLeft = rng.chance(0.5);
    a.jmp(rng.pick([BPF_JGT, BPF_JSGT, BPF_JSET]), 5, cut === 0 ? 1 : cut, right);
    side(badLeft);
    a.ja(join);
    a.label(right);
    side(!badLeft);
    a.label(join);
    switch (kind) {
      case 'range':
        a.mov(4, r(10));
        a.add(4, -32);
        a.add(4, r(7));
        a.ldx(8, 7, 4, 0);
        g.retReg = 7;
        g.noPostDecor = true;
        break;
      case 'const': case 'w32':
        a.mov(4, r(2));
        a.add(4, r(7));
        a.ldx(4, 0, 4, 0);
        break;
      case 'spill':
        a.ldx(8, 7, 10, -16);
        a.mov(4, r(2));
        a.add(4, r(7));
        a.ldx(4, 0, 4, 0);
        break;
      case 'ptr_ranges': a.ldx(4, 0, 7, 32); break;
      case 'ptr_types': a.ldx(4, 0, 7, 16); break;
      case 'ptr_scalar': a.ldx(4, 0, 7, 14); break;
      case 'stack_init':
        a.ldx(8, 7, 10, -32);
        g.retReg = 7;
        g.noPostDecor = true;
        break;
      case 'null': a.ldx(8, 7, 9, 0); break;
      default: break;
    }
  },
};


/**
 * Range tracking of every ALU and jump operation: r7 starts as 64 random bits (from a map value),
 * goes through an operation whose result the verifier must bound, and indexes a 64-byte map value
 * (an ARRAY with one entry, so its buffer ends where the value ends and any overrun faults).
 * The broken variants are one operation away from the correct ones.
 */
type OpCase = [name: string, expect: Expect, emit: (a: Asm) => void, size: Size];
const SCALAR_OPS: readonly OpCase[] = [
  ['and_safe', 'safe', (a) => a.alu(BPF_AND, 7, 0x38), 8],
  ['and_add_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x38); a.add(7, 8); }, 8],
  ['and_add_safe', 'safe', (a) => { a.alu(BPF_AND, 7, 0x30); a.add(7, 8); }, 8],
  ['sub_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x38); a.alu(BPF_SUB, 7, 8); }, 8],
  ['sub32_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x38, true); a.alu(BPF_SUB, 7, 8, true); }, 1],
  ['or_safe', 'safe', (a) => { a.alu(BPF_AND, 7, 0x30); a.alu(BPF_OR, 7, 0x8); }, 8],
  ['or_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x30); a.alu(BPF_OR, 7, 0x40); }, 1],
  ['xor_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x38); a.alu(BPF_XOR, 7, 0x40); }, 1],
  ['xor_safe', 'safe', (a) => { a.alu(BPF_AND, 7, 0x1f); a.alu(BPF_XOR, 7, 0x20); }, 1],
  ['neg_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x38); a.neg(7); }, 1],
  ['neg_neg_safe', 'safe', (a) => { a.alu(BPF_AND, 7, 0x38); a.neg(7); a.neg(7); }, 8],
  ['lsh_rsh_safe', 'safe', (a) => { a.alu(BPF_LSH, 7, 58); a.alu(BPF_RSH, 7, 58); }, 1],
  ['lsh_arsh_unsafe', 'unsafe', (a) => { a.alu(BPF_LSH, 7, 58); a.alu(BPF_ARSH, 7, 58); }, 1],
  ['rsh_safe', 'safe', (a) => a.alu(BPF_RSH, 7, 58), 1],
  ['rsh_57_unsafe', 'unsafe', (a) => a.alu(BPF_RSH, 7, 57), 1],
  ['rsh32_safe', 'safe', (a) => a.alu(BPF_RSH, 7, 26, true), 1],
  ['arsh32_unsafe', 'unsafe', (a) => a.alu(BPF_ARSH, 7, 26, true), 1],
  ['lsh_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x7); a.alu(BPF_LSH, 7, 4); }, 8],
  ['lsh_safe', 'safe', (a) => { a.alu(BPF_AND, 7, 0x7); a.alu(BPF_LSH, 7, 3); }, 8],
  ['lsh_reg_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x7); a.mov(1, 4); a.alu(BPF_LSH, 7, r(1)); }, 8],
  ['mul_safe', 'safe', (a) => { a.alu(BPF_AND, 7, 0x7); a.alu(BPF_MUL, 7, 8); }, 8],
  ['mul_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x7); a.alu(BPF_MUL, 7, 9); }, 8],
  ['mul32_wrap_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0xffff); a.alu(BPF_MUL, 7, 0x10001, true); }, 1],
  ['div_safe', 'safe', (a) => { a.mov(7, r(7), true); a.alu(BPF_DIV, 7, 0x4000000); }, 1],
  ['div_unsafe', 'unsafe', (a) => { a.mov(7, r(7), true); a.alu(BPF_DIV, 7, 0x2000000); }, 1],
  ['div_reg_zero_safe', 'safe', (a) => { a.mov(1, 0); a.alu(BPF_DIV, 7, r(1)); a.add(7, 63); }, 1],
  ['mod_safe', 'safe', (a) => a.alu(BPF_MOD, 7, 57), 8],
  ['mod_unsafe', 'unsafe', (a) => a.alu(BPF_MOD, 7, 58), 8],
  ['mod_reg_zero_unsafe', 'unsafe', (a) => { a.mov(1, 0); a.alu(BPF_MOD, 7, r(1)); }, 1],
  ['smod_unsafe', 'unsafe', (a) => a.alu(BPF_MOD, 7, 57, false, 1), 8],
  ['sdiv_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x38); a.alu(BPF_DIV, 7, -1, false, 1); }, 1],
  ['bswap_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x38); a.endian(7, 64, true); }, 1],
  ['bswap16_safe', 'safe', (a) => { a.alu(BPF_AND, 7, 0x3f00); a.endian(7, 16, true); }, 1],
  ['bswap16_unsafe', 'unsafe', (a) => { a.alu(BPF_AND, 7, 0x3f); a.endian(7, 16, true); }, 1],
  ['le16_safe', 'safe', (a) => { a.endian(7, 16, false); a.alu(BPF_AND, 7, 0x3f); }, 1],
  ['movsx8_unsafe', 'unsafe', (a) => { a.alu(BPF_OR, 7, 0x80); a.alu(BPF_AND, 7, 0xff); a.movsx(7, 7, 8); }, 1],
  ['movsx8_safe', 'safe', (a) => { a.alu(BPF_AND, 7, 0x3f); a.movsx(7, 7, 8); }, 1],
  ['mov32_safe', 'safe', (a) => { a.mov(7, r(7), true); a.alu(BPF_RSH, 7, 26); }, 1],
  ['mov32_unsafe', 'unsafe', (a) => { a.alu(BPF_RSH, 7, 26); }, 1],
  ['jmp32_zext_safe', 'safe', (a) => { const u = a.fresh('u'); a.jmp(BPF_JLE, 7, 56, u, true); a.mov(7, 0); a.label(u); a.mov(7, r(7), true); }, 8],
  ['jmp32_no_zext_unsafe', 'unsafe', (a) => { const u = a.fresh('u'); a.jmp(BPF_JLE, 7, 56, u, true); a.mov(7, 0); a.label(u); }, 8],
  ['reg_cmp_safe', 'safe', (a) => { const u = a.fresh('u'); a.mov(1, 56); a.jmp(BPF_JLE, 7, r(1), u); a.mov(7, 0); a.label(u); }, 8],
  ['reg_cmp_unsafe', 'unsafe', (a) => { const u = a.fresh('u'); a.ldx(4, 1, 6, 16); a.add(1, 56); a.jmp(BPF_JLE, 7, r(1), u); a.mov(7, 0); a.label(u); }, 8],
  ['signed_both_safe', 'safe', (a) => { const o = a.fresh('o'), u = a.fresh('u'); a.jmp(BPF_JSLT, 7, 0, o); a.jmp(BPF_JSLE, 7, 56, u); a.label(o); a.mov(7, 0); a.label(u); }, 8],
  ['signed_upper_unsafe', 'unsafe', (a) => { const u = a.fresh('u'); a.jmp(BPF_JSLE, 7, 56, u); a.mov(7, 0); a.label(u); }, 8],
  ['jeq_safe', 'safe', (a) => { const u = a.fresh('u'); a.jmp(BPF_JEQ, 7, 40, u); a.mov(7, 0); a.label(u); }, 8],
  ['jne_unsafe', 'unsafe', (a) => { const u = a.fresh('u'); a.jmp(BPF_JNE, 7, 40, u); a.mov(7, 0); a.label(u); }, 8],
  ['jset_safe', 'safe', (a) => jsetClear(a, ~0x38), 8],
  ['jset_unsafe', 'unsafe', (a) => jsetClear(a, 0x7fffff00), 8],
  ['jgt_then_jlt_safe', 'safe', (a) => { const o = a.fresh('o'), u = a.fresh('u'); a.jmp(BPF_JLT, 7, 8, o); a.jmp(BPF_JLE, 7, 56, u); a.label(o); a.mov(7, 8); a.label(u); }, 8],
  ['jlt_off_by_one_unsafe', 'unsafe', (a) => { const u = a.fresh('u'); a.jmp(BPF_JLT, 7, 58, u); a.mov(7, 0); a.label(u); }, 8],
];

/** if (r7 & bits) r7 = 0: afterwards r7 has none of `bits` set. */
function jsetClear(a: Asm, bits: number): void {
  const z = a.fresh('z'), u = a.fresh('u');
  a.jmp(BPF_JSET, 7, bits, z);
  a.ja(u);
  a.label(z);
  a.mov(7, 0);
  a.label(u);
}

const scalarOps: Shape = {
  name: 'scalar_ops',
  variants: SCALAR_OPS.map(([name, expect]) => v(name, expect)),
  build(g, variant) {
    const a = g.a, rng = g.rng;
    const c = SCALAR_OPS.find((x) => x[0] === variant);
    if (c === undefined) throw new Error(`no scalar op ${variant}`);
    g.calls = true;
    const fd = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 64, 1, [0]);
    a.st(4, 10, -4, 0);
    a.ldMap(1, fd);
    a.mov(2, r(10));
    a.add(2, -4);
    a.call(BPF_FUNC.map_lookup_elem);
    a.jmp(BPF_JEQ, 0, 0, 'out');
    a.ldx(8, 7, 0, 8 * rng.int(0, 7));
    c[2](a);
    a.mov(4, r(0));
    a.add(4, r(7));
    a.ldx(c[3], 1, 4, 0);
    if (rng.chance(0.3)) a.stx(c[3], 4, 0, 1);
    g.retReg = 1;
  },
};

/** r7 = 64 random bits from a one-entry 64-byte array value; r0 keeps pointing at the value. */
function loadRandomScalar(g: Gen): void {
  const a = g.a;
  g.calls = true;
  const fd = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 64, 1, [0]);
  a.st(4, 10, -4, 0);
  a.ldMap(1, fd);
  a.mov(2, r(10));
  a.add(2, -4);
  a.call(BPF_FUNC.map_lookup_elem);
  a.jmp(BPF_JEQ, 0, 0, 'out');
  a.ldx(8, 7, 0, 8 * g.rng.int(0, 7));
  a.ldx(8, 8, 0, 8 * g.rng.int(0, 7));
}

/** Bounded scalars spilled to the stack and filled back, whole or in part, sometimes overwritten in between. */
const scalarSpill: Shape = {
  name: 'scalar_spill',
  decor: true,
  variants: [
    v('fill_full_safe', 'safe'), v('fill_low32_safe', 'safe'), v('fill_low32_of_mixed_safe', 'safe'), v('two_slots_safe', 'safe'),
    v('fill_high32_unsafe', 'unsafe'), v('overwrite_top_byte_unsafe', 'unsafe'), v('overwrite_low_byte_unsafe', 'unsafe'),
    v('spill32_fill64_unsafe', 'unsafe'), v('var_off_write_unsafe', 'unsafe'), v('wrong_slot_unsafe', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    loadRandomScalar(g);
    const slot = -8 * rng.int(2, 6);
    a.alu(BPF_AND, 7, 0x38);
    switch (variant) {
      case 'fill_full_safe':
        a.stx(8, 10, slot, 7);
        a.mov(7, r(8));
        a.ldx(8, 7, 10, slot);
        break;
      case 'fill_low32_safe':
        a.stx(8, 10, slot, 7);
        a.ldx(4, 7, 10, slot);
        break;
      case 'fill_low32_of_mixed_safe': case 'fill_high32_unsafe':
        // low half bounded, high half random
        a.alu(BPF_LSH, 8, 32);
        a.alu(BPF_OR, 7, r(8));
        a.stx(8, 10, slot, 7);
        a.ldx(4, 7, 10, variant === 'fill_high32_unsafe' ? slot + 4 : slot);
        break;
      case 'two_slots_safe':
        a.stx(8, 10, slot, 7);
        a.alu(BPF_AND, 8, 0x18);
        a.stx(8, 10, slot - 8, 8);
        a.ldx(8, 1, 10, slot - 8);
        a.ldx(8, 7, 10, slot);
        a.alu(BPF_AND, 7, 0x20);
        a.add(7, r(1));
        break;
      case 'overwrite_top_byte_unsafe':
        a.stx(8, 10, slot, 7);
        a.st(1, 10, slot + 7, 0x7f);
        a.ldx(8, 7, 10, slot);
        break;
      case 'overwrite_low_byte_unsafe':
        a.stx(8, 10, slot, 7);
        a.st(1, 10, slot, 0xff);
        a.ldx(8, 7, 10, slot);
        break;
      case 'spill32_fill64_unsafe':
        a.stx(4, 10, slot, 7);
        a.stx(4, 10, slot + 4, 8);
        a.ldx(8, 7, 10, slot);
        break;
      case 'var_off_write_unsafe': {
        // A variable-offset byte write anywhere in [slot - 8, slot + 8) may land on the spill.
        a.stx(8, 10, slot, 7);
        a.st(8, 10, slot - 8, 0);
        a.alu(BPF_AND, 8, 0xf);
        a.mov(1, r(10));
        a.add(1, slot - 8);
        a.add(1, r(8));
        a.st(1, 1, 0, 0x41);
        a.ldx(8, 7, 10, slot);
        break;
      }
      default: // wrong_slot_unsafe: the bounded value went to one slot, an unbounded one to the slot read
        a.stx(8, 10, slot, 7);
        a.stx(8, 10, slot - 8, 8);
        a.ldx(8, 7, 10, slot - 8);
        break;
    }
    a.mov(4, r(0));
    a.add(4, r(7));
    a.ldx(8, 1, 4, 0);
    g.retReg = 1;
  },
};

/** Global data: ld_imm64 of a map value's address (src 2), constant and variable offsets, read-only maps. */
const globalData: Shape = {
  name: 'global_data',
  decor: true,
  variants: [
    v('const_safe', 'safe'), v('var_safe', 'safe'), v('read_rdonly_safe', 'safe'), v('two_values_safe', 'safe'),
    v('const_end_unsafe', 'unsafe'), v('var_unsafe', 'unsafe'), v('write_rdonly_unsafe', 'unsafe'), v('negative_off_unsafe', 'unsafe'),
  ],
  build(g, variant) {
    const a = g.a, rng = g.rng;
    const rdonly = variant.includes('rdonly');
    const fd = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 32, 1, [0], rdonly ? 0x80 : 0);
    switch (variant) {
      case 'const_safe': case 'read_rdonly_safe': case 'write_rdonly_unsafe': {
        const off = 8 * rng.int(0, 3);
        a.ldMapValue(1, fd, off);
        a.ldx(8, 7, 1, 0);
        if (variant === 'write_rdonly_unsafe') a.stx(8, 1, 0, 7);
        if (variant === 'const_safe') { a.add(7, 1); a.stx(8, 1, 0, 7); }
        break;
      }
      case 'two_values_safe': {
        const fd2 = g.addMap(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, 4, 16, 1, [0]);
        a.ldMapValue(1, fd, 24);
        a.ldMapValue(2, fd2, 8);
        a.ldx(8, 7, 1, 0);
        a.stx(8, 2, 0, 7);
        break;
      }
      case 'const_end_unsafe':
        a.ldMapValue(1, fd, 28);
        a.ldx(8, 7, 1, 0);
        break;
      case 'negative_off_unsafe':
        a.ldMapValue(1, fd, 8);
        a.ldx(8, 7, 1, -16);
        break;
      default: // var_safe / var_unsafe: an offset from the value's own first word
        a.ldMapValue(1, fd, 0);
        a.ldx(8, 2, 1, 0);
        a.alu(BPF_AND, 2, variant === 'var_safe' ? 0x18 : 0x38);
        a.add(1, r(2));
        a.ldx(8, 7, 1, 0);
        break;
    }
    g.retReg = 7;
  },
};

const SHAPES: readonly Shape[] = [diamond, scalarOps, scalarSpill, globalData, eth, ipv4, ipv6, vlan, varoff, rangeChain, mapLookup, mapUpdate, stack, spill, loopConst, loopData, ptrArith, adjust, csum, subprog, alu32, noise];
export const SHAPE_NAMES: readonly string[] = [...SHAPES.map((s) => s.name), 'ret'];

const RET_VARIANTS: readonly Variant[] = [v('const', 'safe'), v('from_pkt', 'safe'), v('uninit', 'unsafe'), v('wide', 'any'), v('pointer', 'any')];

/** Picks a variant: half the time a correct one, otherwise any broken or implementation-defined one. */
function pickVariant(rng: Rng, variants: readonly Variant[]): Variant {
  const safe = variants.filter((x) => x.expect === 'safe');
  const other = variants.filter((x) => x.expect !== 'safe');
  if (other.length === 0 || (safe.length > 0 && rng.chance(0.5))) return rng.pick(safe);
  return rng.pick(other);
}

function safeVariant(rng: Rng, shape: Shape): string {
  return rng.pick(shape.variants.filter((x) => x.expect === 'safe')).name;
}

/** The return-value shape: programs whose interest is r0 at exit. */
function buildRet(g: Gen, variant: string): void {
  const a = g.a;
  g.loadPkt();
  g.check(2, 14, 3, 'out');
  switch (variant) {
    case 'const': a.mov(0, g.rng.int(0, 4)); break;
    case 'from_pkt': a.ldx(1, 0, 2, 13); a.alu(BPF_AND, 0, 3); break;
    case 'wide': a.ldx(1, 0, 2, 13); break;
    case 'pointer': a.mov(0, r(2)); break;
    default: a.ldx(1, 5, 2, 13); break; // uninit: r0 never written
  }
  a.exit();
  if (a.referenced('out')) {
    a.label('out');
    a.mov(0, XDP_DROP);
    a.exit();
  }
}

/** Generates program `index` of the run seeded `baseSeed`. */
export function generate(baseSeed: number, index: number): GenProgram {
  const seed = programSeed(baseSeed, index);
  const rng = makeRng(seed);
  const g = new Gen(rng);
  const a = g.a;
  a.mov(6, r(1));
  let shapeName: string;
  let variant: Variant;
  const extras: string[] = [];
  if (rng.chance(0.04)) {
    shapeName = 'ret';
    variant = pickVariant(rng, RET_VARIANTS);
    buildRet(g, variant.name);
  } else {
    const shape = rng.pick(SHAPES);
    shapeName = shape.name;
    variant = pickVariant(rng, shape.variants);
    const decor = SHAPES.filter((s) => s.decor === true && s !== shape);
    // The primary block is built into a scratch Gen first, to learn whether it allows decoration
    // before it; then for real (same seed, same code).
    const probe = new Gen(makeRng(seed ^ 0x5bd1e995));
    shape.build(probe, variant.name);
    // Blocks that read stack bytes they never wrote would find what a decoration wrote there.
    if (!probe.noPreDecor && !/uninit|stack_init|partial$/.test(variant.name)) {
      if (rng.chance(0.25)) {
        const d = rng.pick(decor);
        extras.push(d.name);
        d.build(g, safeVariant(rng, d));
      }
      if (rng.chance(0.15)) { extras.push('noise'); g.noise(rng.int(2, 10)); }
    }
    g.retReg = undefined;
    shape.build(g, variant.name);
    const retReg = g.retReg;
    let decorated = false;
    if (!g.noPostDecor && rng.chance(0.2)) {
      const d = rng.pick(decor);
      extras.push(d.name);
      d.build(g, safeVariant(rng, d));
      decorated = true;
    }
    // Return value: what the block computed (when nothing after it may have overwritten the
    // register, with a pointer say), or a constant action.
    if (retReg !== undefined && !decorated && (g.noPostDecor || rng.chance(0.5))) {
      a.mov(0, r(retReg));
      a.alu(BPF_AND, 0, 3);
    } else a.mov(0, rng.pick([XDP_PASS, XDP_PASS, XDP_DROP, 3, 0]));
    a.exit();
    // The kernel rejects unreachable instructions: the early exit exists only if something jumps there.
    if (a.referenced('out')) {
      a.label('out');
      a.mov(0, XDP_DROP);
      a.exit();
    }
    for (const s of g.subprogs) s();
  }
  return {
    index, seed, shape: shapeName, variant: variant.name, expect: variant.expect, extras,
    insns: a.finish(), maps: g.maps, lengthHints: [...g.hints].sort((x, y) => x - y),
  };
}
