; Bounds an index with "if idx > 8 goto out" (it should be >= 8 for an 8-byte value) and reads
; value[idx].
; category: map_value
; maps: m:array:4:8:4
; expect: invalid access to map value, value_size=8 off=8 size=1
; kernel-errno: EACCES
; kernel: invalid access to map value, value_size=8 off=8 size=1
; kernel: R0 max value is outside of the allowed memory range
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
ldxb %r1, [%r0+0]
jgt %r1, 8, out
add %r0, %r1
ldxb %r1, [%r0+0]
out:
mov %r0, 2
exit
