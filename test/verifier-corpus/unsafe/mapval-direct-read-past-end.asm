; Loads the address of a global-data-like value (16 bytes) with ld_imm64 and reads at offset 16.
; category: map_value
; maps: m:array:4:16:1
; expect: invalid access to map value, value_size=16 off=16 size=4
; kernel-errno: EACCES
; kernel: invalid access to map value, value_size=16 off=16 size=4
; kernel: R1 min value is outside of the allowed memory range
lddw %r1, map_val(map_by_fd(m))
ldxw %r0, [%r1+16]
exit
