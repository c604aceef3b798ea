; Adds 8 to a map pointer (ld_imm64 of a map fd).
; category: ptr_arith
; maps: m:hash:4:8:16
; expect: R1 pointer arithmetic on map_ptr prohibited
; kernel-errno: EACCES
; kernel: R1 pointer arithmetic on map_ptr prohibited
lddw %r1, map_by_fd(m)
add %r1, 8
mov %r0, 2
exit
