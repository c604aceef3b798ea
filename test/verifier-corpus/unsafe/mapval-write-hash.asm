; Writes a u64 at offset 16 of a 16-byte HASH map value.
; category: map_value
; maps: m:hash:4:16:64
; expect: invalid access to map value, value_size=16 off=16 size=8
; kernel-errno: EACCES
; kernel: invalid access to map value, value_size=16 off=16 size=8
; kernel: R0 min value is outside of the allowed memory range
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
stdw [%r0+16], 1
out:
mov %r0, 2
exit
