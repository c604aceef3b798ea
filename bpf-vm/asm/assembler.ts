// Assembler for the syntax of the userspace eBPF runtimes' test suites (uBPF's assembler and the
// bpf_conformance suite): `mov32 %r0, 1`, `ldxw %r0, [%r1+4]`, `jeq %r1, 0, label`, `lock fetch add [%r10-8], %r1`.
// The mnemonic table is derived from OPCODE_TABLE through the printer's naming, so every spelling maps to
// an opcode that exists and the printer's output always assembles back.
import { insn, type Insn } from '../isa/insn.ts';
import { BPF_PSEUDO_CALL_KIND, BPF_PSEUDO_LD } from '../isa/opcodes.ts';
import { OPCODE_TABLE, type FieldRule, type OpKind, type OpcodeRule } from '../isa/legality.ts';
import { AsmError } from '../errors.ts';
import { fieldViolation, mnemonicOf } from './asm-printer.ts';

export interface AssembleOptions {
  /** Resolves a map name in `map_by_fd(name)`, `map_by_idx(name)` and `map_val(...)` operands of lddw. */
  mapId?: (name: string, src: number) => number | undefined;
  /** Resolves `call name` when name is not a label (the conformance suite's `call bpf_map_lookup_elem`). */
  helperId?: (name: string) => number | undefined;
}

/** One encoding a mnemonic can produce: the opcode plus the fields the mnemonic itself fixes. */
interface Variant {
  readonly rule: OpcodeRule;
  readonly off: number;
  readonly imm: number;
}

interface Spelling {
  readonly kind: OpKind;
  /** ALU and conditional jumps have an immediate-source and a register-source variant; others have one. */
  readonly variants: readonly Variant[];
}

const listed = (r: FieldRule): readonly number[] => (r === 'any' || r === 'zero' ? [0] : r);

/** The field values that select a different mnemonic for the same opcode. */
function discriminators(rule: OpcodeRule): readonly { off: number; imm: number }[] {
  switch (rule.kind) {
    case 'alu': return listed(rule.off).map((off) => ({ off, imm: 0 }));
    case 'end':
    case 'bswap':
    case 'atomic': return listed(rule.imm).map((imm) => ({ off: 0, imm }));
    default: return [{ off: 0, imm: 0 }];
  }
}

/** Other spellings found in the suites and in binutils, mapped to the printed one. */
const ALIASES = {
  gotol: 'ja32',
  ldxsb: 'ldxbsx',
  ldxsh: 'ldxhsx',
  ldxsw: 'ldxwsx',
  swap16: 'bswap16',
  swap32: 'bswap32',
  swap64: 'bswap64',
  'lock fetch xchg': 'lock xchg',
  'lock fetch xchg32': 'lock xchg32',
  'lock fetch cmpxchg': 'lock cmpxchg',
  'lock fetch cmpxchg32': 'lock cmpxchg32',
} as const;

function buildSpellings(): ReadonlyMap<string, Spelling> {
  const out = new Map<string, { kind: OpKind; variants: Variant[] }>();
  for (const rule of OPCODE_TABLE.values()) {
    for (const d of discriminators(rule)) {
      const name = mnemonicOf(insn(rule.code, 0, 0, d.off, d.imm), rule);
      const entry = out.get(name) ?? { kind: rule.kind, variants: [] };
      entry.variants.push({ rule, off: d.off, imm: d.imm });
      out.set(name, entry);
    }
  }
  // 64-bit ALU also answers to an explicit `64` suffix (add64, sdiv64, neg64), as in the suite.
  for (const [name, s] of [...out]) {
    if ((s.kind === 'alu' || s.kind === 'neg') && s.variants[0]!.rule.wide && !name.startsWith('movsx')) {
      out.set(`${name}64`, s);
    }
  }
  for (const [alias, target] of Object.entries(ALIASES)) {
    const s = out.get(target);
    if (s === undefined) throw new Error(`alias ${alias} names unknown mnemonic ${target}`);
    out.set(alias, s);
  }
  return out;
}

const SPELLINGS: ReadonlyMap<string, Spelling> = buildSpellings();

/** Every mnemonic the assembler accepts (lock forms include their words, e.g. `lock fetch add32`). */
export const MNEMONICS: readonly string[] = [...SPELLINGS.keys()].sort();

const CALL_MODES: ReadonlySet<string> = new Set(['helper', 'local', 'runtime']);
const S16 = { min: -0x8000, max: 0x7fff } as const;
const S32 = { min: -0x8000_0000, max: 0x7fff_ffff } as const;
// The suites write 32-bit immediates as unsigned hex too (`jsge %r1, 0xffffffff`); those wrap to s32.
const IMM32 = { min: -0x8000_0000n, max: 0xffff_ffffn } as const;
const IMM64 = { min: -(1n << 63n), max: (1n << 64n) - 1n } as const;
const MAX_REG = 15;

const NUM_RE = /^([+-]?)\s*(0x[0-9a-f]+|\d+)$/i;
const REG_RE = /^%?r(\d+)$/i;
const LABEL_RE = /^[A-Za-z_.$][\w.$]*$/;
const MEM_RE = /^\[\s*([^\s+\-\]]+)\s*(?:([+-])\s*(0x[0-9a-f]+|\d+)\s*)?\]$/i;

/** A label reference waiting for the end of the source. */
interface Fixup {
  readonly index: number;
  readonly line: number;
  readonly label: string;
  /** Where the pc-relative distance goes; 'call' may also turn out to name a helper. */
  readonly field: 'off' | 'imm' | 'call';
}

class LineAssembler {
  readonly out: Insn[] = [];
  readonly labels = new Map<string, { pc: number; line: number }>();
  readonly fixups: Fixup[] = [];
  firstExit: number | undefined;
  line = 0;

  constructor(private readonly opts: AssembleOptions) {}

  fail(message: string): never {
    throw new AsmError(this.line, message);
  }

  number(tok: string, what: string): bigint {
    const m = NUM_RE.exec(tok.trim());
    if (m === null) this.fail(`bad ${what} '${tok}': expected a decimal or 0x-prefixed hex number`);
    const v = BigInt(m[2]!);
    return m[1] === '-' ? -v : v;
  }

  ranged(v: bigint, range: { min: number; max: number }, what: string): number {
    if (v < BigInt(range.min) || v > BigInt(range.max)) {
      this.fail(`${what} ${v} out of range (${range.min}..${range.max})`);
    }
    return Number(v);
  }

  imm32(tok: string): number {
    const v = this.number(tok, 'immediate');
    if (v < IMM32.min || v > IMM32.max) {
      this.fail(`immediate ${tok.trim()} does not fit in 32 bits (${IMM32.min}..${IMM32.max}); only lddw takes 64-bit immediates`);
    }
    return Number(BigInt.asIntN(32, v));
  }

  reg(tok: string): number {
    const m = REG_RE.exec(tok.trim());
    const n = m === null ? NaN : Number(m[1]);
    // r11-r15 encode (the suite uses them for negative tests); the verifier rejects them.
    if (!(n <= MAX_REG)) this.fail(`bad register '${tok.trim()}': expected %r0..%r10`);
    return n;
  }

  isReg(tok: string): boolean {
    return REG_RE.test(tok.trim());
  }

  mem(tok: string): { base: number; off: number } {
    const m = MEM_RE.exec(tok.trim());
    if (m === null) this.fail(`bad memory operand '${tok.trim()}': expected [%rN], [%rN+off] or [%rN-off]`);
    const base = this.reg(m[1]!);
    if (m[3] === undefined) return { base, off: 0 };
    const v = this.number(`${m[2]}${m[3]}`, 'offset');
    return { base, off: this.ranged(v, S16, 'offset') };
  }

  /** A jump target: a signed or bare number is a relative offset, anything else a label. */
  target(tok: string, range: { min: number; max: number }, field: 'off' | 'imm'): number {
    const t = tok.trim();
    if (NUM_RE.test(t)) return this.ranged(this.number(t, 'jump offset'), range, 'jump offset');
    if (!LABEL_RE.test(t)) this.fail(`bad jump target '${t}': expected +N, -N or a label`);
    this.fixups.push({ index: this.out.length, line: this.line, label: t, field });
    return 0;
  }

  emit(v: Variant, dst: number, src: number, off: number, imm: number): void {
    const ins = insn(v.rule.code, dst, src, off, imm);
    const bad = fieldViolation(ins, v.rule);
    // Operand parsing already enforces the rules; reaching this means a table/printer mismatch.
    if (bad !== undefined) this.fail(`internal: ${bad} not allowed for opcode 0x${v.rule.code.toString(16)}`);
    this.out.push(ins);
  }

  expect(name: string, ops: readonly string[], n: number): void {
    if (ops.length !== n) {
      this.fail(`'${name}' takes ${n} operand${n === 1 ? '' : 's'}, got ${ops.length}`);
    }
  }

  /** Picks the register- or immediate-source variant of an ALU op or conditional jump. */
  bySource(name: string, s: Spelling, tok: string): { v: Variant; src: number; imm: number } {
    const wantReg = this.isReg(tok);
    const v = s.variants.find((x) => (x.rule.src === 'reg') === wantReg);
    if (v === undefined) this.fail(`'${name}' needs a ${wantReg ? 'immediate' : 'register'} source, got '${tok.trim()}'`);
    return wantReg ? { v, src: this.reg(tok), imm: 0 } : { v, src: 0, imm: this.imm32(tok) };
  }

  statement(text: string): void {
    const words = text.split(/\s+/);
    let name = words[0]!.toLowerCase();
    let rest = text.slice(words[0]!.length).trim();
    if (name === 'lock') {
      // `lock [fetch] op dst, src`: the words before the operands are all part of the mnemonic.
      const m = /^(fetch\s+)?(\S+)\s*(.*)$/i.exec(rest);
      if (m === null) this.fail(`'lock' needs an operation: lock [fetch] add|or|and|xor|xchg|cmpxchg[32] [%rN+off], %rM`);
      name = `lock ${m[1] !== undefined ? 'fetch ' : ''}${m[2]!.toLowerCase()}`;
      rest = m[3]!;
    }
    if (name === 'call') return this.call(rest);
    const s = SPELLINGS.get(name);
    if (s === undefined) this.fail(`unknown mnemonic '${name}'`);
    const ops = splitOperands(rest);
    if (ops.some((o) => o === '')) this.fail(`empty operand in '${text}'`);
    const v0 = s.variants[0]!;
    switch (s.kind) {
      case 'alu': {
        this.expect(name, ops, 2);
        const dst = this.reg(ops[0]!);
        const { v, src, imm } = this.bySource(name, s, ops[1]!);
        return this.emit(v, dst, src, v.off, imm);
      }
      case 'neg':
      case 'end':
      case 'bswap':
        this.expect(name, ops, 1);
        return this.emit(v0, this.reg(ops[0]!), 0, 0, v0.imm);
      case 'ja':
        this.expect(name, ops, 1);
        return this.emit(v0, 0, 0, this.target(ops[0]!, S16, 'off'), 0);
      case 'gotol':
        this.expect(name, ops, 1);
        return this.emit(v0, 0, 0, 0, this.target(ops[0]!, S32, 'imm'));
      case 'jcond': {
        this.expect(name, ops, 3);
        const dst = this.reg(ops[0]!);
        const { v, src, imm } = this.bySource(name, s, ops[1]!);
        return this.emit(v, dst, src, this.target(ops[2]!, S16, 'off'), imm);
      }
      case 'exit':
        this.expect(name, ops, 0);
        this.firstExit ??= this.out.length;
        return this.emit(v0, 0, 0, 0, 0);
      case 'lddw':
        this.expect(name, ops, 2);
        return this.lddw(v0, this.reg(ops[0]!), ops[1]!);
      case 'ldabs':
        this.expect(name, ops, 1);
        return this.emit(v0, 0, 0, 0, this.imm32(ops[0]!));
      case 'ldind':
        this.expect(name, ops, 2);
        return this.emit(v0, 0, this.reg(ops[0]!), 0, this.imm32(ops[1]!));
      case 'ldx':
      case 'ldxsx': {
        this.expect(name, ops, 2);
        const dst = this.reg(ops[0]!);
        const { base, off } = this.mem(ops[1]!);
        return this.emit(v0, dst, base, off, 0);
      }
      case 'st': {
        this.expect(name, ops, 2);
        const { base, off } = this.mem(ops[0]!);
        return this.emit(v0, base, 0, off, this.imm32(ops[1]!));
      }
      case 'stx':
      case 'atomic': {
        this.expect(name, ops, 2);
        const { base, off } = this.mem(ops[0]!);
        return this.emit(v0, base, this.reg(ops[1]!), off, v0.imm);
      }
      case 'call':
        return this.call(rest);
    }
  }

  /** `call N`, `call helper N|name`, `call local label|±N`, `call runtime N`, or `call label`. */
  call(rest: string): void {
    const v = SPELLINGS.get('call')!.variants[0]!;
    const words = rest.split(/\s+/).filter((w) => w !== '');
    const [mode, arg] = words.length === 1 ? [undefined, words[0]!] : [words[0]?.toLowerCase(), words[1]];
    if (words.length === 1 && CALL_MODES.has(arg!.toLowerCase())) this.fail(`'call ${arg}' needs a target`);
    if (arg === undefined || words.length > 2) this.fail(`'call' takes a helper id, 'local <target>' or 'runtime <id>', got '${rest}'`);
    if (this.isReg(arg)) this.fail(`'call ${arg}' (callx) is not in the instruction set: BPF_JMP | BPF_CALL | BPF_X is not a legal opcode`);
    const numeric = NUM_RE.test(arg);
    switch (mode) {
      case 'local':
        return this.emit(v, 0, BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL, 0, this.target(arg, S32, 'imm'));
      case 'runtime':
        return this.emit(v, 0, BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_KFUNC_CALL, 0, this.imm32(arg));
      case 'helper':
      case undefined:
        if (numeric) return this.emit(v, 0, BPF_PSEUDO_CALL_KIND.HELPER, 0, this.imm32(arg));
        if (!LABEL_RE.test(arg)) this.fail(`bad call target '${arg}'`);
        if (mode === 'helper') return this.emit(v, 0, BPF_PSEUDO_CALL_KIND.HELPER, 0, this.helper(arg));
        // A name: a label if one is defined anywhere in the source, else a helper name.
        this.fixups.push({ index: this.out.length, line: this.line, label: arg, field: 'call' });
        return this.emit(v, 0, BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL, 0, 0);
      default:
        this.fail(`bad call mode '${mode}': expected helper, local or runtime`);
    }
  }

  helper(name: string): number {
    const id = this.opts.helperId?.(name);
    if (id === undefined) this.fail(`unknown helper '${name}'`);
    return id;
  }

  symbolOrNumber(tok: string, src: number): number {
    const t = tok.trim();
    if (NUM_RE.test(t)) return this.imm32(t);
    if (!LABEL_RE.test(t)) this.fail(`bad map reference '${t}'`);
    const id = this.opts.mapId?.(t, src);
    if (id === undefined) this.fail(`unknown map '${t}'`);
    return id;
  }

  /** The RFC 9669 forms of the 64-bit immediate: a constant, map_by_fd(x), map_val(map_by_fd(x)) + off, ... */
  lddw(v: Variant, dst: number, operand: string): void {
    const op = operand.trim();
    const second = (imm: number): void => {
      this.out.push(insn(0, 0, 0, 0, imm));
    };
    const valM = /^map_val\s*\(\s*(map_by_fd|map_by_idx)\s*\(([^)]*)\)\s*\)\s*(?:([+-])\s*(\S+))?$/i.exec(op);
    if (valM !== null) {
      const src = valM[1]!.toLowerCase() === 'map_by_fd'
        ? BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_LD.BPF_PSEUDO_MAP_IDX_VALUE;
      const off = valM[4] === undefined ? 0 : this.ranged(this.number(`${valM[3]}${valM[4]}`, 'map value offset'), S32, 'map value offset');
      this.emit(v, dst, src, 0, this.symbolOrNumber(valM[2]!, src));
      return second(off);
    }
    const fnM = /^(map_by_fd|map_by_idx|var_addr|code_addr)\s*\(([^)]*)\)$/i.exec(op);
    if (fnM !== null) {
      const fn = fnM[1]!.toLowerCase();
      const arg = fnM[2]!;
      if (fn === 'map_by_fd' || fn === 'map_by_idx') {
        const src = fn === 'map_by_fd' ? BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD : BPF_PSEUDO_LD.BPF_PSEUDO_MAP_IDX;
        this.emit(v, dst, src, 0, this.symbolOrNumber(arg, src));
      } else if (fn === 'var_addr') {
        this.emit(v, dst, BPF_PSEUDO_LD.BPF_PSEUDO_BTF_ID, 0, this.imm32(arg));
      } else {
        // Like a bpf-to-bpf call, the function's address is pc-relative.
        this.emit(v, dst, BPF_PSEUDO_LD.BPF_PSEUDO_FUNC, 0, this.target(arg, S32, 'imm'));
      }
      return second(0);
    }
    const val = this.number(op, 'lddw immediate');
    if (val < IMM64.min || val > IMM64.max) this.fail(`lddw immediate ${op} does not fit in 64 bits`);
    const u = BigInt.asUintN(64, val);
    this.emit(v, dst, BPF_PSEUDO_LD.NONE, 0, Number(BigInt.asIntN(32, u)));
    second(Number(BigInt.asIntN(32, u >> 32n)));
  }

  defineLabel(name: string): void {
    const prev = this.labels.get(name);
    if (prev !== undefined) this.fail(`duplicate label '${name}' (first defined on line ${prev.line})`);
    this.labels.set(name, { pc: this.out.length, line: this.line });
  }

  resolve(): void {
    for (const f of this.fixups) {
      this.line = f.line;
      const ins = this.out[f.index]!;
      // The suite's assembler lets `exit` name the first exit instruction unless a label says otherwise.
      const pc = this.labels.get(f.label)?.pc ?? (f.label === 'exit' ? this.firstExit : undefined);
      if (pc === undefined) {
        if (f.field !== 'call') this.fail(`undefined label '${f.label}'`);
        const id = this.opts.helperId?.(f.label);
        if (id === undefined) this.fail(`'call ${f.label}': no such label or helper`);
        ins.src = BPF_PSEUDO_CALL_KIND.HELPER;
        ins.imm = id;
        continue;
      }
      const rel = pc - (f.index + 1);
      if (f.field === 'off') {
        if (rel < S16.min || rel > S16.max) {
          this.fail(`jump to '${f.label}' is out of range: offset ${rel} does not fit in 16 bits (ja32 takes a 32-bit offset)`);
        }
        ins.off = rel;
      } else {
        ins.imm = rel;
      }
    }
  }
}

/** Splits on commas outside brackets and parentheses. */
function splitOperands(rest: string): string[] {
  if (rest.trim() === '') return [];
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of rest) {
    if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else {
      cur += ch;
    }
  }
  out.push(cur.trim());
  return out;
}

function stripComment(line: string): string {
  let end = line.length;
  for (const marker of ['#', ';', '//']) {
    const i = line.indexOf(marker);
    if (i >= 0 && i < end) end = i;
  }
  return line.slice(0, end);
}

/**
 * Assembles source text into instruction slots (an lddw takes two). Lines hold an optional `label:`
 * and one instruction; `#`, `;` and `//` start comments. Throws AsmError with the 1-based line number.
 */
export function assemble(source: string, opts: AssembleOptions = {}): Insn[] {
  const a = new LineAssembler(opts);
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    a.line = i + 1;
    let text = stripComment(lines[i]!).trim();
    for (let m = /^([A-Za-z_.$][\w.$]*)\s*:/.exec(text); m !== null; m = /^([A-Za-z_.$][\w.$]*)\s*:/.exec(text)) {
      a.defineLabel(m[1]!);
      text = text.slice(m[0].length).trim();
    }
    if (text !== '') a.statement(text);
  }
  a.resolve();
  return a.out;
}
