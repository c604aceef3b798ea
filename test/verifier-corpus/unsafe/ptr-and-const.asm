; Masks a packet pointer with &= 0xfff (aligning it).
; category: ptr_arith
; expect: R2 bitwise operator &= on pointer prohibited
; kernel-errno: EACCES
; kernel: R2 bitwise operator &= on pointer prohibited
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

and %r2, 0xfff
mov %r0, 2
exit
