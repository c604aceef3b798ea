// Pieces of the hand-written tc programs the BTF-pointer and kfunc tests assemble: the bounds check
// of an Ethernet + IP + TCP frame, its 4-tuple put on the stack as struct bpf_sock_tuple,
// bpf_skc_lookup_tcp, a field's offset in vxo's kernel BTF, and the Program around the text.
import { assemble } from '../../bpf-vm/asm/assembler.ts';
import { kernelBtf } from '../../bpf-vm/btf/kernel-btf.ts';
import type { BpfMap } from '../../bpf-vm/maps/map.ts';
import { FdTable } from '../../bpf-vm/prog/fd-table.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE, type ProgType } from '../../bpf-vm/prog/types.ts';
import { AF_INET } from '../../net/core/socket-constants.ts';

/** The byte offset of a field of a struct of vxo's kernel BTF by its C path (what a CO-RE read compiles to). */
export function btfFieldOffset(struct: string, path: string): number {
  const f = kernelBtf().struct(struct)?.fields.find((x) => x.path === path);
  if (f === undefined) throw new Error(`no ${struct}.${path}`);
  return f.offset;
}

/**
 * r6 = ctx; r2 = data; goes to `ok` unless `len` bytes are there and the IP protocol is TCP
 * (IPv4 with IHL 5, or IPv6 without extension headers).
 */
export function tcpFrameCheckAsm(family: number, len = family === AF_INET ? 54 : 74): string {
  return `mov %r6, %r1
ldxw %r2, [%r6+76]
ldxw %r3, [%r6+80]
mov %r4, %r2
add %r4, ${len}
jgt %r4, %r3, ok
ldxb %r5, [%r2+${family === AF_INET ? 23 : 20}]
jne %r5, 6, ok`;
}

/** The frame's addresses and ports (at r2) copied to the stack as struct bpf_sock_tuple; r2 = its address, r3 = its size. */
export function sockTupleAsm(family: number): string {
  return family === AF_INET
    ? `ldxdw %r5, [%r2+26]
stxdw [%r10-16], %r5
ldxw %r5, [%r2+34]
stxw [%r10-8], %r5
mov %r2, %r10
add %r2, -16
mov %r3, 12`
    : `ldxdw %r5, [%r2+22]
stxdw [%r10-40], %r5
ldxdw %r5, [%r2+30]
stxdw [%r10-32], %r5
ldxdw %r5, [%r2+38]
stxdw [%r10-24], %r5
ldxdw %r5, [%r2+46]
stxdw [%r10-16], %r5
ldxw %r5, [%r2+54]
stxw [%r10-8], %r5
mov %r2, %r10
add %r2, -40
mov %r3, 36`;
}

/** bpf_skc_lookup_tcp(ctx = r6, tuple in r2/r3, current netns, 0): to `ok` on NULL, else the socket in r7. */
export const SKC_LOOKUP_ASM = `mov %r1, %r6
mov %r4, -1
mov %r5, 0
call 99
jeq %r0, 0, ok
mov %r7, %r0`;

/** A SCHED_CLS program (GPL) from assembler text whose `map_by_fd(name)` names `maps`' keys. */
export function asmTcProgram(name: string, src: string, maps: Record<string, BpfMap> = {}): Program {
  const fds = new FdTable();
  const ids: Record<string, number> = {};
  for (const [n, m] of Object.entries(maps)) ids[n] = fds.add(m);
  const insns = assemble(src, { mapId: (n) => ids[n] });
  return { name, section: 'tc', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS as ProgType, insns, funcs: [], license: 'GPL', fds };
}

/** bpf_map_lookup_elem(map, &(u32)0) with the key at fp-48: to `fail` on NULL, else the value in `into`. */
export function mapSlot0Asm(map: string, into: string, fail: string): string {
  return `mov %r1, 0
stxw [%r10-48], %r1
lddw %r1, map_by_fd(${map})
mov %r2, %r10
add %r2, -48
call 1
jeq %r0, 0, ${fail}
mov ${into}, %r0`;
}
