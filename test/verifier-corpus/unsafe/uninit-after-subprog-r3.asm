; Uses r3 after a bpf-to-bpf call: r1-r5 are clobbered by calls.
; category: uninit
; expect: R3 !read_ok
; kernel-errno: EACCES
; kernel: R3 !read_ok
mov %r3, 2
call local f
mov %r0, %r3
exit
f:
mov %r0, 0
exit
