; Loads through r4, never written.
; category: uninit
; expect: R4 !read_ok
; kernel-errno: EACCES
; kernel: R4 !read_ok
ldxw %r0, [%r4+0]
exit
