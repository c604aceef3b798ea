; Computes 100 - data: a scalar minus a pointer.
; category: ptr_arith
; expect: R4 tried to subtract pointer from scalar
; kernel-errno: EACCES
; kernel: R4 tried to subtract pointer from scalar
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, 100
sub %r4, %r2
mov %r0, 2
exit
