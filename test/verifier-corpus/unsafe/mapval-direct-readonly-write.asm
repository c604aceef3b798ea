; Loads the address of the value of a read-only array with ld_imm64 (BPF_PSEUDO_MAP_VALUE, like
; .rodata) and writes to it.
; category: map_value
; maps: m:array:4:8:1:128
; expect: write into map forbidden
; kernel-errno: EACCES
; kernel: write into map forbidden, value_size=8 off=0 size=4
lddw %r1, map_val(map_by_fd(m))
stw [%r1+0], 1
mov %r0, 2
exit
