; The main program does not end with an exit and would fall through into a subprogram.
; category: cfg
; expect: last insn is not an exit or jmp
; kernel-errno: EINVAL
; kernel: last insn is not an exit or jmp
mov %r1, 1
call local f
mov %r0, 2
f:
mov %r0, %r1
exit
