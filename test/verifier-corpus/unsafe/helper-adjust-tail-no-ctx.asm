; bpf_xdp_adjust_tail after r1 was overwritten with a number.
; category: helper_args
; expect: R1 type=scalar expected=ctx
; kernel-errno: EACCES
; kernel: R1 type=scalar expected=ctx
mov %r1, 0
mov %r2, -4
call 65
mov %r0, 2
exit
