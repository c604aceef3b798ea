; Shifts a 32-bit register right by 32.
; category: insn
; expect: invalid shift 32
; kernel-errno: EINVAL
; kernel: invalid shift 32
mov %r0, 2
rsh32 %r0, 32
exit
