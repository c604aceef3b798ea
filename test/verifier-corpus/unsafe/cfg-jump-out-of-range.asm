; ja +5 in a three-instruction program.
; category: cfg
; expect: jump out of range from insn 1 to 7
; kernel-errno: EINVAL
; kernel: jump out of range from insn 1 to 7
mov %r0, 2
ja +5
exit
