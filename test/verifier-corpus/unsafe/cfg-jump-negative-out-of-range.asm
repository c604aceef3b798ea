; ja -3 from the first instruction.
; category: cfg
; expect: jump out of range from insn 0 to -2
; kernel-errno: EINVAL
; kernel: jump out of range from insn 0 to -2
ja -3
mov %r0, 2
exit
