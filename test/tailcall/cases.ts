// Hand-assembled programs around bpf_tail_call that the verifier must reject, with the kernel's
// message (checked against the kernel by test/kernel/tailcall-kernel.test.ts). Map `jmp` is a
// 4-slot PROG_ARRAY (fd 3), `arr` a one-element ARRAY of u64 (fd 4), `rb` a 4096-byte RINGBUF (fd 5).
export interface TailCallRejectCase {
  name: string;
  asm: string;
  expect: string;
}

export const TAILCALL_REJECTS: readonly TailCallRejectCase[] = [
  {
    name: 'a tail call through an ARRAY map',
    asm: `
  lddw %r2, map_by_fd(arr)
  mov %r3, 0
  call 12
  mov %r0, 2
  exit`,
    expect: 'expected prog array map for tail call',
  },
  {
    name: 'a lookup in a PROG_ARRAY',
    asm: `
  stw [%r10-4], 0
  lddw %r1, map_by_fd(jmp)
  mov %r2, %r10
  add %r2, -4
  call 1
  mov %r0, 2
  exit`,
    expect: 'cannot pass map_type 3 into func bpf_map_lookup_elem#1',
  },
  {
    name: 'a tail call holding a ringbuf reservation',
    asm: `
  mov %r6, %r1
  lddw %r1, map_by_fd(rb)
  mov %r2, 8
  mov %r3, 0
  call 131
  jeq %r0, 0, out
  mov %r7, %r0
  mov %r1, %r6
  lddw %r2, map_by_fd(jmp)
  mov %r3, 0
  call 12
  mov %r1, %r7
  mov %r2, 0
  call 133
out:
  mov %r0, 2
  exit`,
    expect: 'tail_call would lead to reference leak',
  },
  {
    name: 'a tail call from a subprogram of a program without BTF',
    asm: `
  stdw [%r10-32], 0
  call sub
  mov %r0, 2
  exit
sub:
  stdw [%r10-224], 0
  lddw %r2, map_by_fd(jmp)
  mov %r3, 0
  call 12
  mov %r0, 0
  exit`,
    expect: 'tail_call is not allowed in subprogs without BTF',
  },
  {
    name: 'a tail call with a context that is not the program\'s',
    asm: `
  mov %r1, 0
  lddw %r2, map_by_fd(jmp)
  mov %r3, 0
  call 12
  mov %r0, 2
  exit`,
    expect: 'R1 type=scalar expected=ctx',
  },
];
