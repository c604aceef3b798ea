; Shifts a 64-bit register left by 64.
; category: insn
; expect: invalid shift 64
; kernel-errno: EINVAL
; kernel: invalid shift 64
mov %r0, 2
lsh %r0, 64
exit
