; A bpf-to-bpf call past the end of the program.
; category: cfg
; expect: call to invalid destination
; kernel-errno: EINVAL
; kernel: call to invalid destination
call local +10
mov %r0, 2
exit
