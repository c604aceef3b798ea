; bpf_redirect_map with a number as the map.
; category: helper_args
; expect: R1 type=scalar expected=map_ptr
; kernel-errno: EACCES
; kernel: R1 type=scalar expected=map_ptr
mov %r1, 5
mov %r2, 0
mov %r3, 0
call 51
exit
