; Uses r1 after a helper call: calls clobber r1-r5.
; category: uninit
; expect: R1 !read_ok
; kernel-errno: EACCES
; kernel: R1 !read_ok
call 5
mov %r0, %r1
exit
