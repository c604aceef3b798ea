; Branches on r9, never written.
; category: uninit
; expect: R9 !read_ok
; kernel-errno: EACCES
; kernel: R9 !read_ok
mov %r0, 2
jeq %r9, 0, out
mov %r0, 1
out:
exit
