// Stack-state programs whose level-2 logs 6.18 prints as below (checked against the live kernel by
// test/kernel/prune-parity-kernel.test.ts), and the processed counts of the scenario programs
// (the kernel's beside vxo's: vxo's static precision keeps more scalars exact than the kernel's
// backtracking does, so it walks more where branches compare values the kernel never marks precise).

export interface StackCase {
  name: string;
  src: string;
  /** State lines of vxo's level-2 log, as 6.18 prints them. */
  lines: readonly string[];
  /**
   * Where 6.18 prints a state elsewhere: after a stored zero it marks the register precise and
   * prints the state on a line of its own (`mark_precise` lines, which vxo has not).
   */
  kernelLines?: readonly string[];
}

export const STACK_CASES: readonly StackCase[] = [
  {
    // A data store into a slot holding a spill destroys the spill: every written byte becomes
    // unknown data, the zero ones included; only the stored zero byte stays zero.
    name: 'a narrow store next to a narrow spill scrubs the slot',
    src: 'mov %r1, 0\nstxdw [%r10-8], %r1\nmov %r1, 0xf0000\nstxw [%r10-8], %r1\nmov %r1, 0\nstxb [%r10-4], %r1\nmov %r0, 2\nexit',
    lines: [
      '1: (7b) *(u64 *)(r10 -8) = r1         ; R1=0 R10=fp0 fp-8=0',
      '3: (63) *(u32 *)(r10 -8) = r1         ; R1=0xf0000 R10=fp0 fp-8=mmmm0xf0000',
      '5: (73) *(u8 *)(r10 -4) = r1          ; R1=0 R10=fp0 fp-8=mmm0mmmm',
    ],
    kernelLines: [
      '1: (7b) *(u64 *)(r10 -8) = r1         ; R1=0 R10=fp0 fp-8=0',
      '3: (63) *(u32 *)(r10 -8) = r1         ; R1=0xf0000 R10=fp0 fp-8=mmmm0xf0000',
      '6: R1=0 R10=fp0 fp-8=mmm0mmmm',
    ],
  },
  {
    // A load from the middle of a spilled constant is no fill: unknown bytes.
    name: 'a load from the middle of a spill reads unknown bytes',
    src: 'lddw %r1, 0x300000000\nstxdw [%r10-8], %r1\nldxw %r5, [%r10-4]\nldxw %r4, [%r10-8]\nmov %r0, 2\nexit',
    lines: [
      '3: (61) r5 = *(u32 *)(r10 -4)         ; R5=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=0x300000000',
      '4: (61) r4 = *(u32 *)(r10 -8)         ; R4=0 R10=fp0 fp-8=0x300000000',
    ],
  },
  {
    // A narrow spill of a value wider than the store keeps the whole register; the fill truncates.
    name: 'a narrowing spill keeps the register, the fill truncates it',
    src: 'ldxw %r2, [%r1+12]\nlsh %r2, 32\narsh %r2, 32\nstxw [%r10-8], %r2\nldxw %r3, [%r10-8]\nmov %r0, 2\nexit',
    lines: [
      '3: (63) *(u32 *)(r10 -8) = r2         ; R2=scalar(smin=0xffffffff80000000,smax=0x7fffffff) R10=fp0 fp-8=????scalar(smin=0xffffffff80000000,smax=0x7fffffff)',
      '4: (61) r3 = *(u32 *)(r10 -8)         ; R3=scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff)) R10=fp0 fp-8=????scalar(smin=0xffffffff80000000,smax=0x7fffffff)',
    ],
  },
  {
    // A zero register is spilled like any scalar; a narrow load of part of it reads zero.
    name: 'a spilled zero reads as zero from any of its bytes',
    src: 'mov %r1, 0\nstxdw [%r10-8], %r1\nldxh %r5, [%r10-6]\nmov %r0, 2\nexit',
    lines: [
      '1: (7b) *(u64 *)(r10 -8) = r1         ; R1=0 R10=fp0 fp-8=0',
      '2: (69) r5 = *(u16 *)(r10 -6)         ; R5=0 R10=fp0 fp-8=0',
    ],
  },
];

/** Scenario programs: vxo's processed instructions and states, the kernel's (6.18) beside them. */
export const SCENARIO_COUNTS: readonly {
  obj: string; vxo: number; vxoStates: number; kernel: number; kernelStates: number;
  /** Verification takes seconds: checked by the kernel test only. */
  slow?: true;
  /** vxo's processed count over the kernel's, at most (1.5 unless given). */
  maxRatio?: number;
}[] = [
  { obj: 'scenarios/sk/dispatch.o', vxo: 395, vxoStates: 27, kernel: 353, kernelStates: 23 },
  { obj: 'scenarios/sk/sf_drop.o', vxo: 2, vxoStates: 0, kernel: 2, kernelStates: 0 },
  { obj: 'scenarios/sk/sk_lookup_bench.o', vxo: 184, vxoStates: 6, kernel: 184, kernelStates: 6 },
  { obj: 'scenarios/sk/tc_tproxy.o', vxo: 981, vxoStates: 80, kernel: 981, kernelStates: 80 },
  { obj: 'scenarios/sk/xdp_sk_firewall.o', vxo: 483, vxoStates: 38, kernel: 483, kernelStates: 38 },
  { obj: 'scenarios/sk/tcp_custom_syncookie.o', vxo: 19408, vxoStates: 603, kernel: 13036, kernelStates: 394, slow: true },
  { obj: 'scenarios/sk/syn_proxy.o', vxo: 12769, vxoStates: 432, kernel: 6323, kernelStates: 216, slow: true, maxRatio: 2.1 },
  { obj: 'scenarios/xdp/xdp1.o', vxo: 157, vxoStates: 14, kernel: 144, kernelStates: 12 },
  { obj: 'scenarios/xdp/xdp2.o', vxo: 322, vxoStates: 24, kernel: 308, kernelStates: 24 },
];
