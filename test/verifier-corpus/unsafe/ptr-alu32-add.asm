; A 32-bit add on a packet pointer.
; category: ptr_arith
; expect: R2 32-bit pointer arithmetic prohibited
; kernel-errno: EACCES
; kernel: R2 32-bit pointer arithmetic prohibited
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

add32 %r2, 14
mov %r0, 2
exit
