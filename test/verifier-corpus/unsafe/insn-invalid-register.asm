; Uses r11, which does not exist.
; category: insn
; expect: R11 is invalid
; kernel-errno: EINVAL
; kernel: R11 is invalid
mov %r11, 0
mov %r0, 2
exit
