; A conditional jump past the end of the program.
; category: cfg
; expect: jump out of range from insn 1 to 100
; kernel-errno: EINVAL
; kernel: jump out of range from insn 1 to 100
mov %r0, 2
jeq %r0, 2, +98
exit
