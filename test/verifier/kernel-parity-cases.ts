// Programs whose verdicts once differed from the kernel's (issue 14), each with the verdict and
// first error line of Linux 6.18 (kernelVerifyInsns, or the C object for the ones that need BTF
// function info): test/verifier/kernel-parity.test.ts checks vxo against them, and
// test/kernel/kernel-parity.test.ts against the live kernel. `vxoOnly` marks a deliberate
// difference: vxo's verdict differs from the kernel's, for the reason given.
import { BPF_PSEUDO_CALL_KIND } from '../../bpf-vm/isa/opcodes.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';
import { caseProgram } from './support.ts';

export interface ParityCase {
  name: string;
  src: string;
  /** Program type, XDP unless given. */
  type?: number;
  /** Subprogram entry points (BTF function info): the main program at 0 and each `label:` given. */
  funcs?: readonly string[];
  /**
   * For `funcs` cases, the same instructions as C (naked functions of inline assembly) for the kernel,
   * which takes function info only with BTF: the kernel test builds it with clang -g.
   */
  c?: string;
  /** The kernel's first error line (and vxo's message); absent when both accept. */
  msg?: string;
  code?: 'EACCES' | 'EINVAL';
  /** A deliberate difference: what the kernel does instead, and why vxo does not. */
  vxoOnly?: { kernel: 'accepted'; why: string };
}

const SOCKET = BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER;
const TC = BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS;

/** A subprogram whose only load is a 4-byte ld_abs at 0 (or ld_ind through r7 = 0); 1 when it succeeds. */
const LDABS_SUB = 'sub:\nmov %r6, %r1\nldabsw 0\nmov %r0, 1\nexit';
const LDIND_SUB = 'sub:\nmov %r6, %r1\nmov %r7, 0\nldindw %r7, 0\nmov %r0, 1\nexit';
/** The C twin of a `call local sub` program: `main` (inline assembly) and a subprogram `sub` returning int. */
const cTwin = (main: string, sub: string): string => `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__attribute__((naked, noinline, used)) static int sub(void)
{
\tasm volatile("${sub}" ::: "memory");
}
SEC("socket")
__attribute__((naked)) int prog(void)
{
\tasm volatile("${main}" ::: "memory");
}
char _license[] SEC("license") = "GPL";
`;
const LDABS_SUB_C = 'r6 = r1; r0 = *(u32 *)skb[0]; r0 = 1; exit;';
const LDIND_SUB_C = 'r6 = r1; r7 = 0; r0 = *(u32 *)skb[r7]; r0 = 1; exit;';
const READS_R9_ON_ZERO_C = 'call sub; if r0 != 0 goto 1f; r0 = r9; 1: r0 = 0; exit;';

/** The caller reads r9 (never set) only when the subprogram returned 0. */
const READS_R9_ON_ZERO = 'call local sub\njne %r0, 0, +1\nmov %r0, %r9\nmov %r0, 0\nexit\n';

/**
 * r0 = an unknown number with one bit (`mask`) free, spilled with `store` and filled into r1 with
 * `load`; r1 == 0 then means r0 == 0, so the load through r9 (never set) is on a dead path.
 */
const spillFill = (setup: string, store: string, load: string): string =>
  `call 7\n${setup}\n${store} [%r10-8], %r0\n${load} %r1, [%r10-8]\nmov %r2, 0\njne %r1, %r2, +3\njeq %r0, %r2, +2\nldxdw %r0, [%r9+0]\nexit\nmov %r0, 0\nexit`;

/** r6 = ctx + (a large number whose low part went through `through`): the kernel must not lose the high part. */
const bigThrough = (through: string, shift: number): string =>
  `mov %r6, %r1\ncall 7\nand %r0, 0x8\n${through}\nmov %r3, 0\njne %r2, %r3, +0\nrsh %r1, ${shift}\nadd %r6, %r1\nldxw %r0, [%r6+0]\nexit`;
const BIG64 = 'mov %r1, 0xffffffff\nlsh %r1, 32\nadd %r1, %r0';

export const PARITY_CASES: readonly ParityCase[] = [
  // ---- 1. ld_abs / ld_ind in a subprogram ----
  { name: 'ld_abs in a subprogram needs BTF function info', type: SOCKET, src: `${READS_R9_ON_ZERO}${LDABS_SUB}`,
    msg: 'LD_ABS is not allowed in subprogs without BTF', code: 'EINVAL' },
  { name: 'a failing ld_abs returns 0 from its subprogram: the caller path on 0 is explored', type: SOCKET, funcs: ['sub'],
    src: `${READS_R9_ON_ZERO}${LDABS_SUB}`, c: cTwin(READS_R9_ON_ZERO_C, LDABS_SUB_C), msg: 'R9 !read_ok' },
  { name: 'a failing ld_ind returns 0 from its subprogram: the caller path on 0 is explored', type: SOCKET, funcs: ['sub'],
    src: `${READS_R9_ON_ZERO}${LDIND_SUB}`, c: cTwin(READS_R9_ON_ZERO_C, LDIND_SUB_C), msg: 'R9 !read_ok' },
  { name: 'ld_abs in a subprogram, both outcomes safe', type: SOCKET, funcs: ['sub'], src: `call local sub\nexit\n${LDABS_SUB}`,
    c: cTwin('call sub; exit;', LDABS_SUB_C) },

  // ---- 2. socket filter context ----
  { name: 'socket filter reads tc_classid', type: SOCKET, src: 'ldxw %r0, [%r1+72]\nmov %r0, 0\nexit', msg: 'invalid bpf_context access off=72 size=4' },
  { name: 'socket filter reads tstamp (8 bytes)', type: SOCKET, src: 'ldxdw %r0, [%r1+152]\nmov %r0, 0\nexit', msg: 'invalid bpf_context access off=152 size=8' },
  { name: 'tc reads tc_classid', type: TC, src: 'ldxw %r0, [%r1+72]\nmov %r0, 0\nexit' },
  { name: 'tc reads tstamp (8 bytes)', type: TC, src: 'ldxdw %r0, [%r1+152]\nmov %r0, 0\nexit' },
  { name: 'tc reads 4 bytes of tstamp', type: TC, src: 'ldxw %r0, [%r1+152]\nmov %r0, 0\nexit', msg: 'invalid bpf_context access off=152 size=4' },
  { name: 'socket filter stores and loads 8 bytes of skb->cb', type: SOCKET, src: 'mov %r2, 1\nstxdw [%r1+48], %r2\nstxdw [%r1+56], %r2\nldxdw %r0, [%r1+56]\nmov %r0, 0\nexit' },
  { name: 'tc stores 8 bytes into skb->cb', type: TC, src: 'mov %r2, 1\nstxdw [%r1+56], %r2\nmov %r0, 0\nexit' },
  { name: '8-byte store past the end of skb->cb', type: SOCKET, src: 'mov %r2, 1\nstxdw [%r1+64], %r2\nmov %r0, 0\nexit', msg: 'invalid bpf_context access off=64 size=8' },

  // ---- 3. the frame pointer ----
  { name: 'subtraction from a copy of the frame pointer', src: 'mov %r1, %r10\nsub %r1, 8\nmov %r0, 0\nexit', msg: 'R1 subtraction from stack pointer prohibited' },
  { name: 'subtraction from a stack pointer after an addition', src: 'mov %r1, %r10\nadd %r1, -8\nsub %r1, 8\nmov %r0, 0\nexit', msg: 'R1 subtraction from stack pointer prohibited' },

  // ---- 4. scalar ids through spills and 32-bit moves ----
  { name: 'a check on a register bounds its 32-bit spill filled later', src: 'call 5\nand %r0, 0xfff\nmov %r1, %r0\nstxw [%r10-8], %r0\njlt %r0, 1, +3\nldxw %r1, [%r10-8]\njge %r1, 1, +1\nldxdw %r0, [%r9+0]\nmov %r0, 0\nexit' },
  { name: '64-bit spill and fill keep the link', src: spillFill('and %r0, 0x40000000\nlsh %r0, 32', 'stxdw', 'ldxdw') },
  { name: '32-bit spill and fill of a 32-bit value keep the link', src: spillFill('and32 %r0, 0x40000000', 'stxw', 'ldxw') },
  { name: '16-bit spill and fill of a 16-bit value keep the link', src: spillFill('and %r0, 0x4000', 'stxh', 'ldxh') },
  { name: '8-bit spill and fill of an 8-bit value keep the link', src: spillFill('and %r0, 0x40', 'stxb', 'ldxb') },
  { name: 'a check on a register before its fill bounds the fill', src: 'call 7\nstxdw [%r10-8], %r0\njgt %r0, 20, +3\nldxdw %r0, [%r10-8]\njle %r0, 20, +1\nldxdw %r0, [%r9+0]\nmov %r0, 0\nexit' },
  { name: 'a 32-bit fill of a 64-bit spill of a small value keeps the link', src: 'call 7\nand %r0, 0xff\nstxdw [%r10-8], %r0\nldxw %r1, [%r10-8]\njgt %r1, 10, +2\njle %r0, 10, +1\nldxdw %r0, [%r9+0]\nmov %r0, 0\nexit' },
  { name: 'w1 = w0 of a 32-bit value keeps the link', src: 'call 7\nand %r0, 0xff\nmov32 %r1, %r0\njgt %r0, 10, +2\njle %r1, 10, +1\nldxdw %r0, [%r9+0]\nmov %r0, 0\nexit' },
  { name: 'a 32-bit spill of a 64-bit value is not linked', src: bigThrough(`${BIG64}\nmov %r2, %r1\nstxw [%r10-8], %r1\nldxw %r2, [%r10-8]`, 32),
    msg: 'math between ctx pointer and 4294967295 is not allowed', code: 'EINVAL' },
  { name: 'a 16-bit spill of a 32-bit value is not linked', src: bigThrough('mov32 %r1, 0xffff0000\nadd %r1, %r0\nmov %r2, %r1\nstxh [%r10-8], %r1\nldxh %r2, [%r10-8]', 16),
    msg: 'dereference of modified ctx ptr R6 off=65535 disallowed' },
  { name: 'w2 = w1 of a 64-bit value is not linked', src: bigThrough(`${BIG64}\nmov32 %r2, %r1`, 32),
    msg: 'math between ctx pointer and 4294967295 is not allowed', code: 'EINVAL' },
  { name: 'a 32-bit fill of a 64-bit spill of a 64-bit value is not linked', src: bigThrough(`${BIG64}\nstxdw [%r10-8], %r1\nldxw %r2, [%r10-8]`, 32),
    msg: 'math between ctx pointer and 4294967295 is not allowed', code: 'EINVAL' },

  // ---- 4. other verdicts ----
  { name: 'a subprogram that leaves r0 unset, its caller not reading it', src: 'call local sub\nmov %r0, 0\nexit\nsub:\nexit' },
  { name: 'a caller reading the r0 its subprogram left unset', src: 'call local sub\nexit\nsub:\nexit', msg: 'R0 !read_ok' },
  { name: 'atomic add on a slot holding a spilled pointer', src: 'mov %r1, %r10\nstxdw [%r10-8], %r1\nmov %r2, 1\nlock add [%r10-8], %r2\nmov %r0, 0\nexit' },
  { name: 'atomic fetch-add on a slot holding a spilled pointer', src: 'mov %r1, %r10\nstxdw [%r10-8], %r1\nmov %r2, 1\nlock fetch add [%r10-8], %r2\nmov %r0, 0\nexit' },
  { name: 'a spilled pointer changed by an atomic add is no longer a pointer', src: 'mov %r1, %r10\nstxdw [%r10-8], %r1\nmov %r2, 1\nlock add [%r10-8], %r2\nldxdw %r0, [%r10-8]\nldxdw %r0, [%r0+0]\nmov %r0, 0\nexit',
    msg: "R0 invalid mem access 'scalar'" },
  { name: '32-bit atomic add on half a spilled pointer', src: 'mov %r1, %r10\nstxdw [%r10-8], %r1\nmov %r2, 1\nlock add32 [%r10-8], %r2\nmov %r0, 0\nexit', msg: 'invalid size of register fill' },
  { name: 'a write to r10 on a path never taken', src: 'mov %r0, 0\njeq %r0, 0, +1\nmov %r10, 1\nexit',
    msg: 'frame pointer is read only', code: 'EINVAL',
    vxoOnly: { kernel: 'accepted', why: 'vxo checks r10 writes when it decodes the program, before any path is known: its engines and unverified runs rely on r10 never being written' } },
];

/** The case's program; with `funcs`, every bpf-to-bpf call target is a function (BTF function info). */
export function parityProgram(c: Pick<ParityCase, 'src' | 'type' | 'funcs'>): Program {
  const p = caseProgram(c);
  if (c.funcs === undefined) return p;
  const starts = new Set<number>();
  p.insns.forEach((ins, pc) => {
    if (ins.code === 0x85 && ins.src === BPF_PSEUDO_CALL_KIND.BPF_PSEUDO_CALL) starts.add(pc + 1 + ins.imm);
  });
  const funcs = [{ name: 'main', start: 0 }, ...[...starts].sort((a, b) => a - b).map((start, i) => ({ name: c.funcs![i] ?? `f${i}`, start }))];
  return { ...p, funcs };
}
