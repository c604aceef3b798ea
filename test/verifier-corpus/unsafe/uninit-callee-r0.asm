; A subprogram returns without setting r0.
; category: uninit
; expect: R0 !read_ok
; kernel-errno: EACCES
; kernel: R0 !read_ok
call local f
exit
f:
mov %r1, 0
exit
