; Copies r2, which the program never wrote (XDP programs start with only r1 and r10).
; category: uninit
; expect: R2 !read_ok
; kernel-errno: EACCES
; kernel: R2 !read_ok
mov %r0, %r2
exit
