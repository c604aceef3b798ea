; An ld_imm64 of a map value address whose offset (16) lies past the 16-byte value.
; category: map_value
; maps: m:array:4:16:1
; expect: invalid access to map value pointer, value_size=16 off=16
; kernel-errno: EINVAL
; kernel: invalid access to map value pointer, value_size=16 off=16
lddw %r1, map_val(map_by_fd(m)) + 16
ldxb %r0, [%r1+0]
exit
