; Looks up key 4 in a 4-entry ARRAY map (the lookup returns NULL) and reads the result without a
; check.
; category: null
; maps: m:array:4:8:4
; expect: R0 invalid mem access 'map_value_or_null'
; kernel-errno: EACCES
; kernel: R0 invalid mem access 'map_value_or_null'
stw [%r10-4], 4
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
ldxdw %r1, [%r0+0]
mov %r0, 2
exit
