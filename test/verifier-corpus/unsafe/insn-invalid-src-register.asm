; Copies from r12, which does not exist.
; category: insn
; expect: R12 is invalid
; kernel-errno: EINVAL
; kernel: R12 is invalid
mov %r0, %r12
exit
