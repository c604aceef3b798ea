; Stores r7, never written, to the stack.
; category: uninit
; expect: R7 !read_ok
; kernel-errno: EACCES
; kernel: R7 !read_ok
stxdw [%r10-8], %r7
mov %r0, 2
exit
