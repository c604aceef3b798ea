; Reads a u64 at offset 8 of an 8-byte map value.
; category: map_value
; maps: m:array:4:8:4
; expect: invalid access to map value, value_size=8 off=8 size=8
; kernel-errno: EACCES
; kernel: invalid access to map value, value_size=8 off=8 size=8
; kernel: R0 min value is outside of the allowed memory range
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
ldxdw %r1, [%r0+8]
out:
mov %r0, 2
exit
