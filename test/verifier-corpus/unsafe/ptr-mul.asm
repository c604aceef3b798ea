; Multiplies a packet pointer by 2.
; category: ptr_arith
; expect: R2 pointer arithmetic with *= operator prohibited
; kernel-errno: EACCES
; kernel: R2 pointer arithmetic with *= operator prohibited
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mul %r2, 2
mov %r0, 2
exit
