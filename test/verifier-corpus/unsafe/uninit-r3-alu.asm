; Adds r3, never written, to r0.
; category: uninit
; expect: R3 !read_ok
; kernel-errno: EACCES
; kernel: R3 !read_ok
mov %r0, 2
add %r0, %r3
exit
