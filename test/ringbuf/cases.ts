// Hand-assembled programs around bpf_ringbuf_reserve/submit/discard that the verifier must reject,
// each with the kernel's message (checked against the kernel by test/kernel/ringbuf-kernel.test.ts).
// Map `rb` is a 4096-byte RINGBUF (fd 3), map `arr` a one-element ARRAY of u64 (fd 4).
export interface RingbufRejectCase {
  name: string;
  asm: string;
  /** The kernel's message (a line of its log). */
  expect: string;
}

const RESERVE8 = `
  lddw %r1, map_by_fd(rb)
  mov %r2, 8
  mov %r3, 0
  call 131`;

export const RINGBUF_REJECTS: readonly RingbufRejectCase[] = [
  {
    name: 'a reservation never submitted nor discarded',
    asm: `${RESERVE8}
  mov %r0, 2
  exit`,
    expect: 'Unreleased reference id=2 alloc_insn=4',
  },
  {
    name: 'a reservation released on one path only',
    asm: `${RESERVE8}
  jeq %r0, 0, out
  ldxw %r2, [%r0+0]
  jeq %r2, 0, out
  mov %r1, %r0
  mov %r2, 0
  call 132
out:
  mov %r0, 2
  exit`,
    expect: 'Unreleased reference id=2 alloc_insn=4',
  },
  {
    name: 'a record written after submit',
    asm: `${RESERVE8}
  jeq %r0, 0, out
  mov %r6, %r0
  mov %r1, %r0
  mov %r2, 0
  call 132
  stdw [%r6+0], 1
out:
  mov %r0, 2
  exit`,
    expect: "R6 invalid mem access 'scalar'",
  },
  {
    name: 'a record submitted twice',
    asm: `${RESERVE8}
  jeq %r0, 0, out
  mov %r6, %r0
  mov %r1, %r0
  mov %r2, 0
  call 132
  mov %r1, %r6
  mov %r2, 0
  call 133
out:
  mov %r0, 2
  exit`,
    expect: 'R1 type=scalar expected=ringbuf_mem',
  },
  {
    name: 'a record submitted before its NULL check',
    asm: `${RESERVE8}
  mov %r1, %r0
  mov %r2, 0
  call 132
  mov %r0, 2
  exit`,
    expect: 'R1 type=ringbuf_mem_or_null expected=ringbuf_mem',
  },
  {
    name: 'a write past the size reserved',
    asm: `${RESERVE8}
  jeq %r0, 0, out
  stdw [%r0+8], 1
  mov %r1, %r0
  mov %r2, 0
  call 132
out:
  mov %r0, 2
  exit`,
    expect: 'invalid access to memory, mem_size=8 off=8 size=8',
  },
  {
    name: 'a size that is not a known constant',
    asm: `
  ldxw %r2, [%r1+12]
  and %r2, 0xff
  lddw %r1, map_by_fd(rb)
  mov %r3, 0
  call 131
  jeq %r0, 0, out
  mov %r1, %r0
  mov %r2, 0
  call 132
out:
  mov %r0, 2
  exit`,
    expect: "R2 is not a known constant'",
  },
  {
    name: 'a record submitted through a moved pointer',
    asm: `${RESERVE8}
  jeq %r0, 0, out
  mov %r1, %r0
  add %r1, 4
  mov %r2, 0
  call 132
out:
  mov %r0, 2
  exit`,
    expect: 'R1 must have zero offset when passed to release func or trusted arg to kfunc',
  },
  {
    name: 'bpf_ringbuf_output into an ARRAY map',
    asm: `
  stdw [%r10-8], 0
  lddw %r1, map_by_fd(arr)
  mov %r2, %r10
  add %r2, -8
  mov %r3, 8
  mov %r4, 0
  call 130
  mov %r0, 2
  exit`,
    expect: 'cannot pass map_type 2 into func bpf_ringbuf_output#130',
  },
  {
    name: 'bpf_map_lookup_elem on a RINGBUF map (its key size is 0)',
    asm: `
  stw [%r10-4], 0
  lddw %r1, map_by_fd(rb)
  mov %r2, %r10
  add %r2, -4
  call 1
  mov %r0, 2
  exit`,
    expect: 'invalid zero-sized read',
  },
];
