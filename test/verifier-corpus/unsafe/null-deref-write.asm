; Writes through the result of bpf_map_lookup_elem without a NULL check.
; category: null
; maps: m:hash:4:8:16
; expect: R0 invalid mem access 'map_value_or_null'
; kernel-errno: EACCES
; kernel: R0 invalid mem access 'map_value_or_null'
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
stdw [%r0+0], 1
mov %r0, 2
exit
