; Exits without setting r0.
; category: uninit
; expect: R0 !read_ok
; kernel-errno: EACCES
; kernel: R0 !read_ok
exit
