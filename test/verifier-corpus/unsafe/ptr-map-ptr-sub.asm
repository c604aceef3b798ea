; Subtracts a scalar from a map pointer.
; category: ptr_arith
; maps: m:hash:4:8:16
; expect: R1 pointer arithmetic on map_ptr prohibited
; kernel-errno: EACCES
; kernel: R1 pointer arithmetic on map_ptr prohibited
ldxw %r2, [%r1+12]
lddw %r1, map_by_fd(m)
sub %r1, %r2
mov %r0, 2
exit
