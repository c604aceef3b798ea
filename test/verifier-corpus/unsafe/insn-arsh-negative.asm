; Arithmetic shift by -1.
; category: insn
; expect: invalid shift -1
; kernel-errno: EINVAL
; kernel: invalid shift -1
mov %r0, 2
arsh %r0, -1
exit
