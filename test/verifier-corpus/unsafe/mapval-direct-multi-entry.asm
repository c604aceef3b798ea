; ld_imm64 of a value address (BPF_PSEUDO_MAP_VALUE) in an array with 4 entries: direct value
; access needs a single-entry array.
; category: map_value
; maps: m:array:4:16:4
; expect: invalid access to map value pointer, value_size=16 off=0
; kernel-errno: ENOTSUPP
; kernel: invalid access to map value pointer, value_size=16 off=0
lddw %r1, map_val(map_by_fd(m))
ldxb %r0, [%r1+0]
exit
