; bpf_redirect_map on a HASH map.
; category: helper_args
; maps: m:hash:4:4:4
; expect: cannot pass map_type 1 into func bpf_redirect_map#51
; kernel-errno: EINVAL
; kernel: cannot pass map_type 1 into func bpf_redirect_map#51
lddw %r1, map_by_fd(m)
mov %r2, 0
mov %r3, 0
call 51
exit
