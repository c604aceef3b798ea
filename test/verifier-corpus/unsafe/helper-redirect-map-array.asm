; bpf_redirect_map on an ARRAY map: only DEVMAP, DEVMAP_HASH, CPUMAP and XSKMAP maps can be
; redirect targets.
; category: helper_args
; maps: m:array:4:4:4
; expect: cannot pass map_type 2 into func bpf_redirect_map#51
; kernel-errno: EINVAL
; kernel: cannot pass map_type 2 into func bpf_redirect_map#51
lddw %r1, map_by_fd(m)
mov %r2, 0
mov %r3, 0
call 51
exit
