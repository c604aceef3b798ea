; Adds 4 to the lookup result before the NULL check.
; category: null
; maps: m:hash:4:8:16
; expect: R0 pointer arithmetic on map_value_or_null prohibited, null-check it first
; kernel-errno: EACCES
; kernel: R0 pointer arithmetic on map_value_or_null prohibited, null-check it first
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
add %r0, 4
jeq %r0, 0, out
ldxw %r1, [%r0+0]
out:
mov %r0, 2
exit
