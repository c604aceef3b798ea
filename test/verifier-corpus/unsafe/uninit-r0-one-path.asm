; r0 is set only on one branch.
; category: uninit
; expect: R0 !read_ok
; kernel-errno: EACCES
; kernel: R0 !read_ok
ldxw %r2, [%r1+12]
jeq %r2, 0, out
mov %r0, 2
out:
exit
