; ORs two packet pointers.
; category: ptr_arith
; expect: R2 pointer |= pointer prohibited
; kernel-errno: EACCES
; kernel: R2 pointer |= pointer prohibited
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

or %r2, %r3
mov %r0, 2
exit
