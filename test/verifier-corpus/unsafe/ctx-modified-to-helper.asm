; Passes ctx + 8 to bpf_xdp_adjust_head, which needs the context itself.
; category: ctx
; expect: dereference of modified ctx ptr R1 off=8 disallowed
; kernel-errno: EACCES
; kernel: dereference of modified ctx ptr R1 off=8 disallowed
add %r1, 8
mov %r2, 0
call 44
mov %r0, 2
exit
