; A subprogram reads r6: callee-saved registers are not passed into a new frame.
; category: uninit
; expect: R6 !read_ok
; kernel-errno: EACCES
; kernel: R6 !read_ok
mov %r6, 1
call local f
exit
f:
mov %r0, %r6
exit
