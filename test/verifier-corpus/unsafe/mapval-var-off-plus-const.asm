; A bounded index 0..3 plus a constant 5 makes a u32 read at up to offset 8..11 of an 8-byte
; value.
; category: map_value
; maps: m:array:4:8:4
; expect: invalid access to map value, value_size=8 off=5 size=4
; kernel-errno: EACCES
; kernel: invalid access to map value, value_size=8 off=5 size=4
; kernel: R0 min value is outside of the allowed memory range
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
ldxb %r1, [%r0+0]
and %r1, 3
add %r0, %r1
ldxw %r1, [%r0+5]
out:
mov %r0, 2
exit
