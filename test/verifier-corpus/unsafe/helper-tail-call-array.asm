; bpf_tail_call with an ARRAY map instead of a PROG_ARRAY.
; category: helper_args
; maps: m:array:4:4:4
; expect: expected prog array map for tail call
; kernel-errno: EINVAL
; kernel: expected prog array map for tail call
lddw %r2, map_by_fd(m)
mov %r3, 0
call 12
mov %r0, 2
exit
