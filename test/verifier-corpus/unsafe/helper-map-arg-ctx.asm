; bpf_map_lookup_elem with the ctx pointer as the map.
; category: helper_args
; expect: R1 type=ctx expected=map_ptr
; kernel-errno: EACCES
; kernel: R1 type=ctx expected=map_ptr
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
call 1
mov %r0, 2
exit
