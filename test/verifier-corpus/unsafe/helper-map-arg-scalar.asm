; bpf_map_lookup_elem with r1 = 0 instead of a map.
; category: helper_args
; expect: R1 type=scalar expected=map_ptr
; kernel-errno: EACCES
; kernel: R1 type=scalar expected=map_ptr
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
mov %r1, 0
call 1
mov %r0, 2
exit
