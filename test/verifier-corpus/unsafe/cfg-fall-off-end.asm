; The last instruction is not an exit or a jump: execution would run off the end.
; category: cfg
; expect: last insn is not an exit or jmp
; kernel-errno: EINVAL
; kernel: last insn is not an exit or jmp
mov %r0, 2
