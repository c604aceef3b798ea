; An atomic fetch-add on an uninitialised stack slot reads it.
; category: stack
; kernel-mode: no-perfmon
; expect: invalid read from stack
; kernel-errno: EACCES
; kernel: invalid read from stack R10 off=-8 size=8
mov %r2, 1
lock fetch add [%r10-8], %r2
mov %r0, 2
exit
