; Negates the frame pointer copy twice and stores through it: negation turns a pointer into a
; number.
; category: ptr_arith
; expect: R2 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R2 invalid mem access 'scalar'
mov %r2, %r10
neg %r2
neg %r2
stb [%r2-8], 0
mov %r0, 2
exit
