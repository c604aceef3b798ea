; ALU64 operation 0xe0 (unused) with an immediate.
; category: insn
; patch: 1 code=0xe7
; expect: unknown opcode e7
; kernel-errno: EINVAL
; kernel: unknown opcode e7
mov %r0, 2
mov %r0, 2
exit
