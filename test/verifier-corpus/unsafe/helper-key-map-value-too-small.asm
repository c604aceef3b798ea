; The key of a lookup in a map with 16-byte keys is an 8-byte value of another map.
; category: helper_args
; maps: a:array:4:8:4
; maps: b:hash:16:8:16
; expect: invalid access to map value, value_size=8 off=0 size=16
; kernel-errno: EACCES
; kernel: invalid access to map value, value_size=8 off=0 size=16
; kernel: R2 min value is outside of the allowed memory range
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(a)
call 1
jeq %r0, 0, out
mov %r2, %r0
lddw %r1, map_by_fd(b)
call 1
out:
mov %r0, 2
exit
