// The reference engine: a switch over pre-decoded instructions, registers as int32 (lo, hi) pairs,
// every memory access checked against its region's bounds. Semantics follow RFC 9669.
import { RuntimeFault } from '../errors.ts';
import { BPF_PSEUDO_LD, BPF_REG_FP, MAX_BPF_STACK, MAX_CALL_FRAMES } from '../isa/opcodes.ts';
import type { PreparedProgram } from '../prog/prepare.ts';
import type { InsnFacts } from '../verifier/api.ts';
import { atomic32, atomic64 } from './atomics.ts';
import type { ExecEnv } from './env.ts';
import {
  arsh64, lsh64, mul64, OUT, rsh64, sdiv32, sdiv64, smod32, smod64, udiv64, umod64,
} from './int64.ts';
import { budgetFault, callDepthFault, ctxFault, memFault, misalignedAtomicFault } from './faults.ts';
import { legacyPacketLoad, legacySize } from './legacy-packet-load.ts';
import { FUNC_PTR_TAG, REGION_ID, regionTag } from './regions.ts';
// __sk_buff is the one context with writable fields: its stores go straight to its rewrite.
import { skbCtxStore } from '../prog/skb-ctx.ts';

const CTX_HI = regionTag(REGION_ID.CTX);
const STACK_HI = regionTag(REGION_ID.STACK);
const STACK_TOP = MAX_BPF_STACK * MAX_CALL_FRAMES;
const FP = BPF_REG_FP * 2;

/** Default instruction budget of one run: far above any verified program, low enough to stop a loop. */
export const DEFAULT_INSN_BUDGET = 1 << 26;

const bswap32 = (x: number): number =>
  ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);

export interface InterpreterOptions {
  /** Instructions one run may execute (counted at backward jumps), default DEFAULT_INSN_BUDGET. */
  budget?: number;
  /** The verifier's facts: loads through PTR_TO_BTF_ID (mem kind 'btf') are probe loads. */
  facts?: readonly (InsnFacts | undefined)[];
}

export class Interpreter {
  readonly name = 'interp' as const;
  private readonly saved = new Int32Array(MAX_CALL_FRAMES * 20);
  private readonly retPc = new Int32Array(MAX_CALL_FRAMES);
  private readonly budget: number;
  /** The instruction budget left, while a helper runs (a callback spends from it too). */
  private left = 0;
  /** The frame depth of the helper call in progress (a callback's frame goes above it). */
  private helperDepth = 0;
  /** The callers' r6-r10 while their callbacks run, per depth. */
  private readonly cbSaved = new Int32Array(MAX_CALL_FRAMES * 10);
  /** Instructions a function pointer may name: the targets of ld_imm64 BPF_PSEUDO_FUNC. */
  private readonly funcs = new Set<number>();
  /**
   * 1 at the kernel's BPF_PROBE_MEM loads (through a PTR_TO_BTF_ID, which may be NULL or gone): a
   * load that would fault reads 0 instead, as the kernel's exception table makes it.
   */
  private readonly probe: Uint8Array;

  constructor(readonly prog: PreparedProgram, readonly env: ExecEnv, opts: InterpreterOptions = {}) {
    this.budget = opts.budget ?? DEFAULT_INSN_BUDGET;
    this.probe = new Uint8Array(prog.len);
    const facts = opts.facts;
    if (facts !== undefined) for (let pc = 0; pc < prog.len; pc++) if (facts[pc]?.mem?.kind === 'btf') this.probe[pc] = 1;
    for (let pc = 0; pc < prog.len; pc++) {
      if (prog.code[pc] === 0x18 && prog.imm[pc + 1] === FUNC_PTR_TAG && prog.src[pc] === BPF_PSEUDO_LD.BPF_PSEUDO_FUNC) this.funcs.add(prog.imm[pc]!);
      if (prog.code[pc] === 0x18) pc++;
    }
    env.callFunc = (target) => this.callback(target);
  }

  /** A helper runs the function at `target` in a frame above the current one (bpf_loop's callback). */
  private callback(target: number): void {
    const env = this.env, R = env.R;
    const depth = this.helperDepth, helperPc = env.pc;
    if (!this.funcs.has(target)) throw new RuntimeFault(helperPc, `callback target ${target} is not a function of this program`);
    if (depth + 1 >= MAX_CALL_FRAMES) throw callDepthFault(helperPc);
    const keep = this.cbSaved, b = depth * 10;
    for (let i = 0; i < 10; i++) keep[b + i] = R[12 + i]!;
    // The callback's r0 and r6-r9 start at zero, as in a fresh frame of the JIT.
    R[0] = 0; R[1] = 0;
    for (let i = 12; i < 20; i++) R[i] = 0;
    const stack = env.regions[REGION_ID.STACK]!;
    R[FP] = R[FP]! - MAX_BPF_STACK;
    stack.lo -= MAX_BPF_STACK;
    try {
      this.exec(target, depth + 1);
    } finally {
      stack.lo += MAX_BPF_STACK;
      for (let i = 0; i < 10; i++) R[12 + i] = keep[b + i]!;
      this.helperDepth = depth;
      env.pc = helperPc;
    }
  }

  /** Runs from the entry point with r1..r5 as the caller left them in env.R; r0 holds the result. */
  run(): void {
    const env = this.env;
    const R = env.R;
    // Engines agree on registers the program has not written: r0 and r6-r9 start at zero, r1-r5
    // are the caller's arguments, and a bpf-to-bpf call preserves r1-r9 for its caller.
    R[0] = 0; R[1] = 0;
    for (let i = 12; i < 20; i++) R[i] = 0;
    R[FP] = STACK_TOP;
    R[FP + 1] = STACK_HI;
    // Only the current frame and its callers' frames (above it) are addressable: a frame's lower
    // bound follows calls and returns, so nothing reaches below r10 - 512.
    const stack = env.regions[REGION_ID.STACK]!;
    stack.lo = STACK_TOP - MAX_BPF_STACK;
    this.left = this.budget;
    this.helperDepth = 0;
    this.exec(0, 0);
  }

  /** Runs from `entry` in a frame at `base` until that frame exits. */
  private exec(entry: number, base: number): void {
    const { word, off, imm, helpers } = this.prog;
    const env = this.env;
    const R = env.R;
    const RG = env.regions;
    const saved = this.saved, retPc = this.retPc, probe = this.probe;
    const stack = RG[REGION_ID.STACK]!;
    let budget = this.left;
    let depth = base;
    let pc = entry;

    for (;;) {
      const w = word[pc]!;
      const d = (w >> 8) & 0xff;
      switch (w & 0xff) {
        // ---- ALU64, K then X ----
        case 0x07: { const a = R[d]!, b = imm[pc]!; R[d] = (a + b) | 0; R[d + 1] = (R[d + 1]! + (b >> 31) + ((a >>> 0) + (b >>> 0) > 0xffffffff ? 1 : 0)) | 0; break; }
        case 0x0f: { const s = (w >>> 16); const a = R[d]!, b = R[s]!; R[d] = (a + b) | 0; R[d + 1] = (R[d + 1]! + R[s + 1]! + ((a >>> 0) + (b >>> 0) > 0xffffffff ? 1 : 0)) | 0; break; }
        case 0x17: { const a = R[d]!, b = imm[pc]!; R[d] = (a - b) | 0; R[d + 1] = (R[d + 1]! - (b >> 31) - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0; break; }
        case 0x1f: { const s = (w >>> 16); const a = R[d]!, b = R[s]!; R[d] = (a - b) | 0; R[d + 1] = (R[d + 1]! - R[s + 1]! - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0; break; }
        case 0x27: { const b = imm[pc]!; mul64(R[d]!, R[d + 1]!, b, b >> 31); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x2f: { const s = (w >>> 16); mul64(R[d]!, R[d + 1]!, R[s]!, R[s + 1]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x37: { const b = imm[pc]!; udiv64(R[d]!, R[d + 1]!, b, b >> 31); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x3f: { const s = (w >>> 16); udiv64(R[d]!, R[d + 1]!, R[s]!, R[s + 1]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0xe7: { const b = imm[pc]!; sdiv64(R[d]!, R[d + 1]!, b, b >> 31); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0xef: { const s = (w >>> 16); sdiv64(R[d]!, R[d + 1]!, R[s]!, R[s + 1]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x97: { const b = imm[pc]!; umod64(R[d]!, R[d + 1]!, b, b >> 31); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x9f: { const s = (w >>> 16); umod64(R[d]!, R[d + 1]!, R[s]!, R[s + 1]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0xf7: { const b = imm[pc]!; smod64(R[d]!, R[d + 1]!, b, b >> 31); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0xff: { const s = (w >>> 16); smod64(R[d]!, R[d + 1]!, R[s]!, R[s + 1]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x47: { const b = imm[pc]!; R[d] = R[d]! | b; R[d + 1] = R[d + 1]! | (b >> 31); break; }
        case 0x4f: { const s = (w >>> 16); R[d] = R[d]! | R[s]!; R[d + 1] = R[d + 1]! | R[s + 1]!; break; }
        case 0x57: { const b = imm[pc]!; R[d] = R[d]! & b; R[d + 1] = R[d + 1]! & (b >> 31); break; }
        case 0x5f: { const s = (w >>> 16); R[d] = R[d]! & R[s]!; R[d + 1] = R[d + 1]! & R[s + 1]!; break; }
        case 0xa7: { const b = imm[pc]!; R[d] = R[d]! ^ b; R[d + 1] = R[d + 1]! ^ (b >> 31); break; }
        case 0xaf: { const s = (w >>> 16); R[d] = R[d]! ^ R[s]!; R[d + 1] = R[d + 1]! ^ R[s + 1]!; break; }
        case 0x67: { lsh64(R[d]!, R[d + 1]!, imm[pc]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x6f: { lsh64(R[d]!, R[d + 1]!, R[(w >>> 16)]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x77: { rsh64(R[d]!, R[d + 1]!, imm[pc]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x7f: { rsh64(R[d]!, R[d + 1]!, R[(w >>> 16)]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0xc7: { arsh64(R[d]!, R[d + 1]!, imm[pc]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0xcf: { arsh64(R[d]!, R[d + 1]!, R[(w >>> 16)]!); R[d] = OUT[0]!; R[d + 1] = OUT[1]!; break; }
        case 0x87: { const lo = R[d]!; R[d] = (-lo) | 0; R[d + 1] = (~R[d + 1]! + (lo === 0 ? 1 : 0)) | 0; break; }
        case 0xb7: { const b = imm[pc]!; R[d] = b; R[d + 1] = b >> 31; break; }
        case 0xbf: { const s = (w >>> 16); R[d] = R[s]!; R[d + 1] = R[s + 1]!; break; }
        case 0x01: { const v = (R[(w >>> 16)]! << 24) >> 24; R[d] = v; R[d + 1] = v >> 31; break; }
        case 0x09: { const v = (R[(w >>> 16)]! << 16) >> 16; R[d] = v; R[d + 1] = v >> 31; break; }
        case 0x11: { const v = R[(w >>> 16)]!; R[d] = v; R[d + 1] = v >> 31; break; }
        case 0xd7: { this.bswap(d, imm[pc]!); break; }

        // ---- ALU (32-bit: results zero-extended) ----
        case 0x04: R[d] = (R[d]! + imm[pc]!) | 0; R[d + 1] = 0; break;
        case 0x0c: R[d] = (R[d]! + R[(w >>> 16)]!) | 0; R[d + 1] = 0; break;
        case 0x14: R[d] = (R[d]! - imm[pc]!) | 0; R[d + 1] = 0; break;
        case 0x1c: R[d] = (R[d]! - R[(w >>> 16)]!) | 0; R[d + 1] = 0; break;
        case 0x24: R[d] = Math.imul(R[d]!, imm[pc]!); R[d + 1] = 0; break;
        case 0x2c: R[d] = Math.imul(R[d]!, R[(w >>> 16)]!); R[d + 1] = 0; break;
        case 0x34: { const b = imm[pc]! >>> 0; R[d] = b === 0 ? 0 : ((R[d]! >>> 0) / b) | 0; R[d + 1] = 0; break; }
        case 0x3c: { const b = R[(w >>> 16)]! >>> 0; R[d] = b === 0 ? 0 : ((R[d]! >>> 0) / b) | 0; R[d + 1] = 0; break; }
        case 0x94: { const b = imm[pc]! >>> 0; if (b !== 0) R[d] = ((R[d]! >>> 0) % b) | 0; R[d + 1] = 0; break; }
        case 0x9c: { const b = R[(w >>> 16)]! >>> 0; if (b !== 0) R[d] = ((R[d]! >>> 0) % b) | 0; R[d + 1] = 0; break; }
        case 0xe4: R[d] = sdiv32(R[d]!, imm[pc]!); R[d + 1] = 0; break;
        case 0xec: R[d] = sdiv32(R[d]!, R[(w >>> 16)]!); R[d + 1] = 0; break;
        case 0xf4: R[d] = smod32(R[d]!, imm[pc]!); R[d + 1] = 0; break;
        case 0xfc: R[d] = smod32(R[d]!, R[(w >>> 16)]!); R[d + 1] = 0; break;
        case 0x44: R[d] = R[d]! | imm[pc]!; R[d + 1] = 0; break;
        case 0x4c: R[d] = R[d]! | R[(w >>> 16)]!; R[d + 1] = 0; break;
        case 0x54: R[d] = R[d]! & imm[pc]!; R[d + 1] = 0; break;
        case 0x5c: R[d] = R[d]! & R[(w >>> 16)]!; R[d + 1] = 0; break;
        case 0xa4: R[d] = R[d]! ^ imm[pc]!; R[d + 1] = 0; break;
        case 0xac: R[d] = R[d]! ^ R[(w >>> 16)]!; R[d + 1] = 0; break;
        case 0x64: R[d] = R[d]! << imm[pc]!; R[d + 1] = 0; break;
        case 0x6c: R[d] = R[d]! << R[(w >>> 16)]!; R[d + 1] = 0; break;
        case 0x74: R[d] = R[d]! >>> imm[pc]!; R[d + 1] = 0; break;
        case 0x7c: R[d] = R[d]! >>> R[(w >>> 16)]!; R[d + 1] = 0; break;
        case 0xc4: R[d] = R[d]! >> imm[pc]!; R[d + 1] = 0; break;
        case 0xcc: R[d] = R[d]! >> R[(w >>> 16)]!; R[d + 1] = 0; break;
        case 0x84: R[d] = (-R[d]!) | 0; R[d + 1] = 0; break;
        case 0xb4: R[d] = imm[pc]!; R[d + 1] = 0; break;
        case 0xbc: R[d] = R[(w >>> 16)]!; R[d + 1] = 0; break;
        case 0x19: R[d] = (R[(w >>> 16)]! << 24) >> 24; R[d + 1] = 0; break;
        case 0x21: R[d] = (R[(w >>> 16)]! << 16) >> 16; R[d + 1] = 0; break;
        case 0xd4: { const w = imm[pc]!; if (w === 16) { R[d] = R[d]! & 0xffff; R[d + 1] = 0; } else if (w === 32) R[d + 1] = 0; break; }
        case 0xdc: { this.bswap(d, imm[pc]!); break; }

        // ---- jumps ----
        case 0x05: { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; break; }
        case 0x06: { const o = imm[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; break; }
        case 0x15: if (R[d] === imm[pc] && R[d + 1] === imm[pc]! >> 31) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x1d: { const s = (w >>> 16); if (R[d] === R[s] && R[d + 1] === R[s + 1]) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x55: if (R[d] !== imm[pc] || R[d + 1] !== imm[pc]! >> 31) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x5d: { const s = (w >>> 16); if (R[d] !== R[s] || R[d + 1] !== R[s + 1]) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x25: { const b = imm[pc]!; if ((R[d + 1]! === b >> 31 ? (R[d]! >>> 0) > (b >>> 0) : (R[d + 1]! >>> 0) > (b >> 31 >>> 0))) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x2d: { const s = (w >>> 16); if ((R[d + 1]! === R[s + 1]! ? (R[d]! >>> 0) > (R[s]! >>> 0) : (R[d + 1]! >>> 0) > (R[s + 1]! >>> 0))) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x35: { const b = imm[pc]!; if (!(b >> 31 === R[d + 1]! ? (b >>> 0) > (R[d]! >>> 0) : (b >> 31 >>> 0) > (R[d + 1]! >>> 0))) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x3d: { const s = (w >>> 16); if (!(R[s + 1]! === R[d + 1]! ? (R[s]! >>> 0) > (R[d]! >>> 0) : (R[s + 1]! >>> 0) > (R[d + 1]! >>> 0))) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0xa5: { const b = imm[pc]!; if ((b >> 31 === R[d + 1]! ? (b >>> 0) > (R[d]! >>> 0) : (b >> 31 >>> 0) > (R[d + 1]! >>> 0))) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0xad: { const s = (w >>> 16); if ((R[s + 1]! === R[d + 1]! ? (R[s]! >>> 0) > (R[d]! >>> 0) : (R[s + 1]! >>> 0) > (R[d + 1]! >>> 0))) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0xb5: { const b = imm[pc]!; if (!(R[d + 1]! === b >> 31 ? (R[d]! >>> 0) > (b >>> 0) : (R[d + 1]! >>> 0) > (b >> 31 >>> 0))) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0xbd: { const s = (w >>> 16); if (!(R[d + 1]! === R[s + 1]! ? (R[d]! >>> 0) > (R[s]! >>> 0) : (R[d + 1]! >>> 0) > (R[s + 1]! >>> 0))) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x65: { const b = imm[pc]!; if ((R[d + 1]! === b >> 31 ? (R[d]! >>> 0) > (b >>> 0) : R[d + 1]! > b >> 31)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x6d: { const s = (w >>> 16); if ((R[d + 1]! === R[s + 1]! ? (R[d]! >>> 0) > (R[s]! >>> 0) : R[d + 1]! > R[s + 1]!)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x75: { const b = imm[pc]!; if (!(b >> 31 === R[d + 1]! ? (b >>> 0) > (R[d]! >>> 0) : b >> 31 > R[d + 1]!)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x7d: { const s = (w >>> 16); if (!(R[s + 1]! === R[d + 1]! ? (R[s]! >>> 0) > (R[d]! >>> 0) : R[s + 1]! > R[d + 1]!)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0xc5: { const b = imm[pc]!; if ((b >> 31 === R[d + 1]! ? (b >>> 0) > (R[d]! >>> 0) : b >> 31 > R[d + 1]!)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0xcd: { const s = (w >>> 16); if ((R[s + 1]! === R[d + 1]! ? (R[s]! >>> 0) > (R[d]! >>> 0) : R[s + 1]! > R[d + 1]!)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0xd5: { const b = imm[pc]!; if (!(R[d + 1]! === b >> 31 ? (R[d]! >>> 0) > (b >>> 0) : R[d + 1]! > b >> 31)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0xdd: { const s = (w >>> 16); if (!(R[d + 1]! === R[s + 1]! ? (R[d]! >>> 0) > (R[s]! >>> 0) : R[d + 1]! > R[s + 1]!)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x45: { const b = imm[pc]!; if ((R[d]! & b) !== 0 || (R[d + 1]! & (b >> 31)) !== 0) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }
        case 0x4d: { const s = (w >>> 16); if ((R[d]! & R[s]!) !== 0 || (R[d + 1]! & R[s + 1]!) !== 0) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break; }

        // ---- JMP32: low halves only ----
        case 0x16: if (R[d] === imm[pc]) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x1e: if (R[d] === R[(w >>> 16)]) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x56: if (R[d] !== imm[pc]) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x5e: if (R[d] !== R[(w >>> 16)]) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x26: if ((R[d]! >>> 0) > (imm[pc]! >>> 0)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x2e: if ((R[d]! >>> 0) > (R[(w >>> 16)]! >>> 0)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x36: if ((R[d]! >>> 0) >= (imm[pc]! >>> 0)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x3e: if ((R[d]! >>> 0) >= (R[(w >>> 16)]! >>> 0)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0xa6: if ((R[d]! >>> 0) < (imm[pc]! >>> 0)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0xae: if ((R[d]! >>> 0) < (R[(w >>> 16)]! >>> 0)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0xb6: if ((R[d]! >>> 0) <= (imm[pc]! >>> 0)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0xbe: if ((R[d]! >>> 0) <= (R[(w >>> 16)]! >>> 0)) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x66: if (R[d]! > imm[pc]!) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x6e: if (R[d]! > R[(w >>> 16)]!) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x76: if (R[d]! >= imm[pc]!) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x7e: if (R[d]! >= R[(w >>> 16)]!) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0xc6: if (R[d]! < imm[pc]!) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0xce: if (R[d]! < R[(w >>> 16)]!) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0xd6: if (R[d]! <= imm[pc]!) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0xde: if (R[d]! <= R[(w >>> 16)]!) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x46: if ((R[d]! & imm[pc]!) !== 0) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;
        case 0x4e: if ((R[d]! & R[(w >>> 16)]!) !== 0) { const o = off[pc]!; if (o < 0 && (budget += o) < 0) throw budgetFault(pc, this.budget); pc += o; } break;

        // ---- calls and exit ----
        case 0x85:
          env.pc = pc; this.left = budget; this.helperDepth = depth; helpers[pc]!.impl(env); budget = this.left;
          // bpf_tail_call ran its target: this frame ends with the target's r0 (an exit).
          if (env.tailCalled) {
            env.tailCalled = false;
            if (depth === base) { this.left = budget; return; }
            depth--;
            stack.lo += MAX_BPF_STACK;
            for (let i = 0, b = depth * 20; i < 20; i++) R[2 + i] = saved[b + i]!;
            pc = retPc[depth]!;
            continue;
          }
          break;
        case 0x8d: {
          if (depth + 1 >= MAX_CALL_FRAMES) throw callDepthFault(pc);
          for (let i = 0, b = depth * 20; i < 20; i++) saved[b + i] = R[2 + i]!;
          retPc[depth++] = pc + 1;
          R[FP] = R[FP]! - MAX_BPF_STACK;
          stack.lo -= MAX_BPF_STACK;
          if ((budget -= 1) < 0) throw budgetFault(pc, this.budget);
          pc += 1 + imm[pc]!;
          continue;
        }
        case 0x95: {
          if (depth === base) { this.left = budget; return; }
          depth--;
          stack.lo += MAX_BPF_STACK;
          for (let i = 0, b = depth * 20; i < 20; i++) R[2 + i] = saved[b + i]!;
          pc = retPc[depth]!;
          continue;
        }

        // ---- ld_imm64 (map references already resolved to pointers) ----
        case 0x18: R[d] = imm[pc]!; R[d + 1] = imm[pc + 1]!; pc++; break;

        // ---- LDX ----
        case 0x61: { const s = (w >>> 16), hi = R[s + 1]!, a = (R[s]! >>> 0) + off[pc]!;
          if (hi === CTX_HI) { if (!env.ctxLoad(env, a, 4, d)) throw ctxFault(pc, a, 4); break; }
          const g = RG[hi & 0xffff]; if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 4 > g.hi) { if (probe[pc] === 1) { R[d] = 0; R[d + 1] = 0; break; } throw memFault(pc, s >> 1, off[pc]!, R[s]!, R[s + 1]!, 4, 'read', g); }
          R[d] = g.dv.getInt32(a, true); R[d + 1] = 0; break; }
        case 0x69: { const s = (w >>> 16), hi = R[s + 1]!, a = (R[s]! >>> 0) + off[pc]!;
          if (hi === CTX_HI) { if (!env.ctxLoad(env, a, 2, d)) throw ctxFault(pc, a, 2); break; }
          const g = RG[hi & 0xffff]; if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 2 > g.hi) { if (probe[pc] === 1) { R[d] = 0; R[d + 1] = 0; break; } throw memFault(pc, s >> 1, off[pc]!, R[s]!, R[s + 1]!, 2, 'read', g); }
          R[d] = g.dv.getUint16(a, true); R[d + 1] = 0; break; }
        case 0x71: { const s = (w >>> 16), hi = R[s + 1]!, a = (R[s]! >>> 0) + off[pc]!;
          if (hi === CTX_HI) { if (!env.ctxLoad(env, a, 1, d)) throw ctxFault(pc, a, 1); break; }
          const g = RG[hi & 0xffff]; if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 1 > g.hi) { if (probe[pc] === 1) { R[d] = 0; R[d + 1] = 0; break; } throw memFault(pc, s >> 1, off[pc]!, R[s]!, R[s + 1]!, 1, 'read', g); }
          R[d] = g.u8[a]!; R[d + 1] = 0; break; }
        case 0x79: { const s = (w >>> 16), hi = R[s + 1]!, a = (R[s]! >>> 0) + off[pc]!;
          if (hi === CTX_HI) { if (!env.ctxLoad(env, a, 8, d)) throw ctxFault(pc, a, 8); break; }
          const g = RG[hi & 0xffff]; if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 8 > g.hi) { if (probe[pc] === 1) { R[d] = 0; R[d + 1] = 0; break; } throw memFault(pc, s >> 1, off[pc]!, R[s]!, R[s + 1]!, 8, 'read', g); }
          R[d] = g.dv.getInt32(a, true); R[d + 1] = g.dv.getInt32(a + 4, true); break; }
        case 0x81: { const s = (w >>> 16), hi = R[s + 1]!, a = (R[s]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!env.ctxLoad(env, a, 4, d)) throw ctxFault(pc, a, 4); const v = R[d]!; R[d] = v; R[d + 1] = v >> 31; break; }
          const g = RG[hi & 0xffff]; if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 4 > g.hi) { if (probe[pc] === 1) { R[d] = 0; R[d + 1] = 0; break; } throw memFault(pc, s >> 1, off[pc]!, R[s]!, R[s + 1]!, 4, 'read', g); }
          const v = g.dv.getInt32(a, true); R[d] = v; R[d + 1] = v >> 31; break; }
        case 0x89: { const s = (w >>> 16), hi = R[s + 1]!, a = (R[s]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!env.ctxLoad(env, a, 2, d)) throw ctxFault(pc, a, 2); const v = (R[d]! << 16) >> 16; R[d] = v; R[d + 1] = v >> 31; break; }
          const g = RG[hi & 0xffff]; if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 2 > g.hi) { if (probe[pc] === 1) { R[d] = 0; R[d + 1] = 0; break; } throw memFault(pc, s >> 1, off[pc]!, R[s]!, R[s + 1]!, 2, 'read', g); }
          const v = g.dv.getInt16(a, true); R[d] = v; R[d + 1] = v >> 31; break; }
        case 0x91: { const s = (w >>> 16), hi = R[s + 1]!, a = (R[s]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!env.ctxLoad(env, a, 1, d)) throw ctxFault(pc, a, 1); const v = (R[d]! << 24) >> 24; R[d] = v; R[d + 1] = v >> 31; break; }
          const g = RG[hi & 0xffff]; if (g === undefined || (hi >>> 16) !== 0xffff || a < g.lo || a + 1 > g.hi) { if (probe[pc] === 1) { R[d] = 0; R[d + 1] = 0; break; } throw memFault(pc, s >> 1, off[pc]!, R[s]!, R[s + 1]!, 1, 'read', g); }
          const v = g.dv.getInt8(a); R[d] = v; R[d + 1] = v >> 31; break; }

        // ---- ST (immediate) ----
        case 0x62: { const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!skbCtxStore(env, a, 4, imm[pc]!, imm[pc]! >> 31)) throw ctxFault(pc, a, 4); break; }
          const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + 4 > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, 4, 'write', g);
          g.dv.setInt32(a, imm[pc]!, true); break; }
        case 0x6a: { const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!skbCtxStore(env, a, 2, imm[pc]!, 0)) throw ctxFault(pc, a, 2); break; }
          const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + 2 > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, 2, 'write', g);
          g.dv.setInt16(a, imm[pc]!, true); break; }
        case 0x72: { const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!skbCtxStore(env, a, 1, imm[pc]!, 0)) throw ctxFault(pc, a, 1); break; }
          const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + 1 > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, 1, 'write', g);
          g.u8[a] = imm[pc]!; break; }
        case 0x7a: { const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!skbCtxStore(env, a, 8, imm[pc]!, imm[pc]! >> 31)) throw ctxFault(pc, a, 8); break; }
          const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + 8 > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, 8, 'write', g);
          const v = imm[pc]!; g.dv.setInt32(a, v, true); g.dv.setInt32(a + 4, v >> 31, true); break; }

        // ---- STX ----
        case 0x63: { const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!skbCtxStore(env, a, 4, R[(w >>> 16)]!, R[(w >>> 16) + 1]!)) throw ctxFault(pc, a, 4); break; }
          const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + 4 > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, 4, 'write', g);
          g.dv.setInt32(a, R[(w >>> 16)]!, true); break; }
        case 0x6b: { const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!skbCtxStore(env, a, 2, R[(w >>> 16)]!, 0)) throw ctxFault(pc, a, 2); break; }
          const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + 2 > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, 2, 'write', g);
          g.dv.setInt16(a, R[(w >>> 16)]!, true); break; }
        case 0x73: { const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!skbCtxStore(env, a, 1, R[(w >>> 16)]!, 0)) throw ctxFault(pc, a, 1); break; }
          const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + 1 > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, 1, 'write', g);
          g.u8[a] = R[(w >>> 16)]!; break; }
        case 0x7b: { const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!;
          if (hi === CTX_HI && env.skb !== undefined) { if (!skbCtxStore(env, a, 8, R[(w >>> 16)]!, R[(w >>> 16) + 1]!)) throw ctxFault(pc, a, 8); break; }
          const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + 8 > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, 8, 'write', g);
          const s = (w >>> 16); g.dv.setInt32(a, R[s]!, true); g.dv.setInt32(a + 4, R[s + 1]!, true); break; }

        // ---- atomics ----
        case 0xc3: case 0xdb: {
          const size = (w & 0xff) === 0xdb ? 8 : 4;
          const hi = R[d + 1]!, a = (R[d]! >>> 0) + off[pc]!; const g = RG[hi & 0xffff];
          if (g === undefined || (hi >>> 16) !== 0xffff || !g.writable || a < g.lo || a + size > g.hi) throw memFault(pc, d >> 1, off[pc]!, R[d]!, R[d + 1]!, size, 'atomic', g);
          if ((a & (size - 1)) !== 0 || g.i32.length === 0) throw misalignedAtomicFault(pc, size, g, a);
          if (size === 4) atomic32(R, g, a, (w >>> 16), imm[pc]!);
          else atomic64(R, g, a, (w >>> 16), imm[pc]!);
          break;
        }

        // ---- legacy packet loads (BPF_ABS / BPF_IND): r0 = big-endian packet bytes, or the current
        // function returns 0 (a subprogram to its caller, as the kernel's bpf_gen_ld_abs exit) ----
        case 0x20: case 0x28: case 0x30: case 0x40: case 0x48: case 0x50:
          if (!this.ldPacket(pc, w)) {
            R[0] = 0; R[1] = 0;
            if (depth === base) { this.left = budget; return; }
            depth--;
            stack.lo += MAX_BPF_STACK;
            for (let i = 0, b = depth * 20; i < 20; i++) R[2 + i] = saved[b + i]!;
            pc = retPc[depth]!;
            continue;
          }
          break;

        default:
          throw new RuntimeFault(pc, `unknown opcode 0x${(w & 0xff).toString(16)}`);
      }
      pc++;
    }
  }

  private bswap(d: number, width: number): void {
    const R = this.env.R;
    const lo = R[d]!;
    if (width === 16) { R[d] = ((lo & 0xff) << 8) | ((lo >>> 8) & 0xff); R[d + 1] = 0; }
    else if (width === 32) { R[d] = bswap32(lo); R[d + 1] = 0; }
    else { R[d] = bswap32(R[d + 1]!); R[d + 1] = bswap32(lo); }
  }

  /** BPF_LD | BPF_ABS/BPF_IND into r0; false ends the program (offset outside the packet). */
  private ldPacket(pc: number, w: number): boolean {
    const R = this.env.R;
    let offset = this.prog.imm[pc]!;
    if ((w & 0xe0) === 0x40) offset += R[w >>> 16]!;
    const v = legacyPacketLoad(this.env, pc, legacySize(w & 0xff), offset);
    if (v === undefined) return false;
    R[0] = v;
    R[1] = 0;
    return true;
  }

}
