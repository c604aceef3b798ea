; The last instruction is a conditional jump: its fall-through leaves the program.
; category: cfg
; expect: last insn is not an exit or jmp
; kernel-errno: EINVAL
; kernel: last insn is not an exit or jmp
mov %r0, 2
l:
jeq %r0, 1, l
