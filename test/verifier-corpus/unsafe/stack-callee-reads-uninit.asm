; Passes a pointer to an uninitialised slot of the caller's frame to a subprogram that reads it.
; category: stack
; kernel-mode: no-perfmon
; expect: invalid read from stack
; kernel-errno: EACCES
; kernel: invalid read from stack R1 off=-8 size=8
mov %r1, %r10
add %r1, -8
call local f
exit
f:
ldxdw %r0, [%r1+0]
exit
