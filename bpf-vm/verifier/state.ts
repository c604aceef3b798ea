// A verifier state: the call frames (registers and stack of each active function) and the references
// the program holds. Cloning copies register arrays and stack bytes; registers themselves are shared.
import { BPF_REG_FP, MAX_BPF_REG } from '../isa/opcodes.ts';
import { NOT_INIT, ptrReg, type Reg } from './reg-state.ts';
import type { Checkpoint } from './prune.ts';
import { Stack } from './stack.ts';

export class FuncState {
  /**
   * Callback frames this frame's current helper call has verified so far (the kernel's
   * callback_depth): bpf_loop stops scheduling another visit of its callback at nr_loops.
   */
  callbackDepth = 0;

  constructor(
    public regs: Reg[],
    public stack: Stack,
    readonly frameno: number,
    /** The call instruction in the caller (the helper call, for a callback), -1 for the main program. */
    readonly callsite: number,
    readonly subprog: number,
    /** A callback run by a helper (bpf_loop, bpf_for_each_map_elem): its exit goes back to the call. */
    readonly inCallback = false,
  ) {}

  static fresh(frameno: number, callsite: number, subprog: number, inCallback = false): FuncState {
    const regs = new Array<Reg>(MAX_BPF_REG).fill(NOT_INIT);
    regs[BPF_REG_FP] = ptrReg('stack', { frame: frameno });
    return new FuncState(regs, new Stack(), frameno, callsite, subprog, inCallback);
  }

  clone(): FuncState {
    const f = new FuncState(this.regs.slice(), this.stack.clone(), this.frameno, this.callsite, this.subprog, this.inCallback);
    f.callbackDepth = this.callbackDepth;
    return f;
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
  /** bpf_rcu_read_lock sections open on this path (the kernel's active_rcu_locks). */
  rcuLocks = 0;

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
    s.rcuLocks = this.rcuLocks;
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
