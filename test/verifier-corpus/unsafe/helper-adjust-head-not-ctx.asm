; bpf_xdp_adjust_head with a stack pointer in r1.
; category: helper_args
; expect: R1 type=fp expected=ctx
; kernel-errno: EACCES
; kernel: R1 type=fp expected=ctx
mov %r1, %r10
mov %r2, 0
call 44
mov %r0, 2
exit
