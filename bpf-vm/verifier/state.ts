// A verifier state: the call frames (registers and stack of each active function) and the references
// the program holds. Cloning copies register arrays and stack bytes; registers themselves are shared.
import { BPF_REG_FP, MAX_BPF_REG } from '../isa/opcodes.ts';
import { NOT_INIT, ptrReg, type Reg } from './reg-state.ts';
import type { Checkpoint } from './prune.ts';
import { Stack } from './stack.ts';

export class FuncState {
  constructor(
    public regs: Reg[],
    public stack: Stack,
    readonly frameno: number,
    /** The call instruction in the caller, -1 for the main program. */
    readonly callsite: number,
    readonly subprog: number,
  ) {}

  static fresh(frameno: number, callsite: number, subprog: number): FuncState {
    const regs = new Array<Reg>(MAX_BPF_REG).fill(NOT_INIT);
    regs[BPF_REG_FP] = ptrReg('stack', { frame: frameno });
    return new FuncState(regs, new Stack(), frameno, callsite, subprog);
  }

  clone(): FuncState {
    return new FuncState(this.regs.slice(), this.stack.clone(), this.frameno, this.callsite, this.subprog);
  }
}

export interface RefState {
  readonly id: number;
  /** The instruction that acquired it. */
  readonly insn: number;
}

export class VState {
  /** The last checkpoint recorded on this state's path (pruning bookkeeping, not part of the state). */
  checkpoint: Checkpoint | undefined = undefined;

  constructor(
    public frames: FuncState[],
    public refs: RefState[],
  ) {}

  get cur(): FuncState {
    return this.frames[this.frames.length - 1]!;
  }

  get curframe(): number {
    return this.frames.length - 1;
  }

  clone(): VState {
    const s = new VState(this.frames.map((f) => f.clone()), this.refs.slice());
    s.checkpoint = this.checkpoint;
    return s;
  }

  reg(i: number): Reg {
    return this.cur.regs[i]!;
  }

  setReg(i: number, r: Reg): void {
    this.cur.regs[i] = r;
  }

  /** Applies `f` to every register and spilled register of every frame; `f` returns the replacement. */
  mapAllRegs(f: (r: Reg) => Reg): void {
    for (const fr of this.frames) {
      for (let i = 0; i < MAX_BPF_REG; i++) {
        const r = fr.regs[i]!;
        const n = f(r);
        if (n !== r) fr.regs[i] = n;
      }
      for (const [slot, sp] of fr.stack.spilledRegs()) {
        const n = f(sp.reg);
        if (n !== sp.reg) fr.stack.replaceSpill(slot, n);
      }
    }
  }
}
