; Keeps a value in r5 across a helper call and returns it.
; category: uninit
; expect: R5 !read_ok
; kernel-errno: EACCES
; kernel: R5 !read_ok
mov %r5, 2
call 7
mov %r0, %r5
exit
