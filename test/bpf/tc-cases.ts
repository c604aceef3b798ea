// __sk_buff context accesses for tc (SCHED_CLS) and socket filters, with the kernel's verdicts:
// each case is a one-access program; `msg` is the kernel's refusal (tc_cls_act_is_valid_access,
// sk_filter_is_valid_access, bpf_skb_is_valid_access), undefined when the kernel accepts it.
// test/bpf/tc-verifier.test.ts checks vxo's verifier against the table and runs the accepted ones
// on both engines; test/kernel/tc-verifier.test.ts checks the table against the running kernel.
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE } from '../../bpf-vm/prog/types.ts';

export type SkbProgKind = 'tc' | 'socket';

export interface CtxCase {
  kind: SkbProgKind;
  /** The access, as the program's one load or store through r1. */
  access: string;
  msg?: string;
}

const bad = (off: number, size: number): string => `invalid bpf_context access off=${off} size=${size}`;
const tc = (access: string, msg?: string): CtxCase => ({ kind: 'tc', access, msg });
const sf = (access: string, msg?: string): CtxCase => ({ kind: 'socket', access, msg });

export const CTX_CASES: readonly CtxCase[] = [
  // Reads: every field, narrow where the kernel allows.
  tc('ldxw %r0, [%r1+0]'), tc('ldxb %r0, [%r1+1]'), tc('ldxh %r0, [%r1+2]'), tc('ldxb %r0, [%r1+4]'),
  tc('ldxh %r0, [%r1+18]'), tc('ldxb %r0, [%r1+19]'), tc('ldxw %r0, [%r1+40]'), tc('ldxw %r0, [%r1+84]'),
  tc('ldxdw %r0, [%r1+48]'), tc('ldxdw %r0, [%r1+56]'), tc('ldxb %r0, [%r1+67]'), tc('ldxh %r0, [%r1+72]'),
  tc('ldxdw %r0, [%r1+152]'), tc('ldxw %r0, [%r1+160]'), tc('ldxh %r0, [%r1+166]'), tc('ldxb %r0, [%r1+180]'),
  tc('ldxdw %r0, [%r1+184]'), tc('ldxw %r0, [%r1+176]'), tc('ldxbsx %r0, [%r1+16]'), tc('ldxhsx %r0, [%r1+48]'),
  tc('ldxwsx %r0, [%r1+8]'), tc('ldxw %r0, [%r1+172]', bad(172, 4)), tc('ldxh %r0, [%r1+174]', bad(174, 2)),
  tc('ldxdw %r0, [%r1+64]', bad(64, 8)), tc('ldxdw %r0, [%r1+0]', bad(0, 8)), tc('ldxw %r0, [%r1+2]', bad(2, 4)),
  tc('ldxh %r0, [%r1+76]', bad(76, 2)), tc('ldxw %r0, [%r1+88]', bad(88, 4)), tc('ldxw %r0, [%r1+92]', bad(92, 4)),
  tc('ldxw %r0, [%r1+136]', bad(136, 4)), tc('ldxdw %r0, [%r1+144]', bad(144, 8)), tc('ldxw %r0, [%r1+152]', bad(152, 4)),
  tc('ldxw %r0, [%r1+168]', bad(168, 4)), tc('ldxh %r0, [%r1+180]', bad(180, 2)), tc('ldxb %r0, [%r1+181]', bad(181, 1)),
  tc('ldxw %r0, [%r1+184]', bad(184, 4)), tc('ldxw %r0, [%r1+192]', bad(192, 4)), tc('ldxw %r0, [%r1-4]', bad(-4, 4)),
  // Writes: tc's writable fields, whole u32s only (cb any size, tstamp 8 bytes).
  tc('mov32 %r2, 7\nstxw [%r1+8], %r2'), tc('mov32 %r2, 7\nstxw [%r1+12], %r2'),
  tc('mov32 %r2, 7\nstxw [%r1+32], %r2'), tc('mov32 %r2, 7\nstxw [%r1+44], %r2'), tc('mov32 %r2, 7\nstxb [%r1+50], %r2'),
  tc('mov %r2, 7\nstxdw [%r1+56], %r2'), tc('mov32 %r2, 7\nstxw [%r1+72], %r2'), tc('mov %r2, 7\nstxdw [%r1+152], %r2'),
  tc('mov32 %r2, 7\nstxh [%r1+8], %r2', bad(8, 2)), tc('mov32 %r2, 7\nstxw [%r1+0], %r2', bad(0, 4)),
  tc('mov32 %r2, 7\nstxw [%r1+68], %r2', bad(68, 4)), tc('mov32 %r2, 7\nstxw [%r1+76], %r2', bad(76, 4)),
  tc('mov32 %r2, 7\nstxw [%r1+160], %r2', bad(160, 4)), tc('mov %r2, 7\nstxdw [%r1+168], %r2', bad(168, 8)),
  tc('mov32 %r2, 7\nstxb [%r1+180], %r2', bad(180, 1)),
  // Socket filters: no packet pointers, no tc or time-stamp fields; only cb writable.
  sf('ldxw %r0, [%r1+0]'), sf('ldxb %r0, [%r1+16]'), sf('ldxw %r0, [%r1+44]'), sf('ldxw %r0, [%r1+164]'),
  sf('ldxw %r0, [%r1+76]', bad(76, 4)), sf('ldxw %r0, [%r1+80]', bad(80, 4)), sf('ldxw %r0, [%r1+140]', bad(140, 4)),
  sf('ldxw %r0, [%r1+72]', bad(72, 4)), sf('ldxdw %r0, [%r1+152]', bad(152, 8)), sf('ldxw %r0, [%r1+160]', bad(160, 4)),
  sf('ldxdw %r0, [%r1+184]', bad(184, 8)), sf('ldxb %r0, [%r1+180]', bad(180, 1)),
  sf('mov32 %r2, 7\nstxw [%r1+48], %r2'), sf('mov32 %r2, 7\nstxw [%r1+8], %r2', bad(8, 4)),
  sf('mov32 %r2, 7\nstxw [%r1+32], %r2', bad(32, 4)),
];

/** The case as a whole program: the access, then r0 = 0 and exit. */
export function ctxCaseSource(c: CtxCase): string {
  return `${c.access}\nmov %r0, 0\nexit`;
}

export function skbProgram(source: string, kind: SkbProgKind, fds = new FdTable(), mapId?: (name: string) => number | undefined): Program {
  const insns = assemble(source, { mapId });
  const type = kind === 'tc' ? BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER;
  return { name: 'case', section: kind === 'tc' ? 'tc' : 'socket', type, insns, funcs: [], license: 'GPL', fds };
}
