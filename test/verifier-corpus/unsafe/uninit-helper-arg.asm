; Calls bpf_map_lookup_elem with r2 (the key pointer) never set.
; category: uninit
; maps: m:array:4:8:4
; expect: R2 !read_ok
; kernel-errno: EACCES
; kernel: R2 !read_ok
lddw %r1, map_by_fd(m)
call 1
mov %r0, 2
exit
