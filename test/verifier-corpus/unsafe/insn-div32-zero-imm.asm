; 32-bit division by the immediate 0.
; category: insn
; expect: div by zero
; kernel-errno: EINVAL
; kernel: div by zero
mov %r0, 2
div32 %r0, 0
exit
