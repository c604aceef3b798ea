; Divides by the immediate 0.
; category: insn
; expect: div by zero
; kernel-errno: EINVAL
; kernel: div by zero
mov %r0, 2
div %r0, 0
exit
