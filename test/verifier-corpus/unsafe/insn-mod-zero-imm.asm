; Modulo by the immediate 0.
; category: insn
; expect: div by zero
; kernel-errno: EINVAL
; kernel: div by zero
mov %r0, 2
mod %r0, 0
exit
