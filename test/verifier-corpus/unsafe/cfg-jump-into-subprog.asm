; The main program jumps into the body of a subprogram.
; category: cfg
; expect: jump out of range from insn 1 to 5
; kernel-errno: EINVAL
; kernel: jump out of range from insn 1 to 5
mov %r0, 2
ja +3
call local f
exit
f:
mov %r0, 0
mov %r0, 1
exit
