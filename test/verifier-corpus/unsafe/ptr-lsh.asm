; Shifts the ctx pointer left.
; category: ptr_arith
; expect: R1 pointer arithmetic with <<= operator prohibited
; kernel-errno: EACCES
; kernel: R1 pointer arithmetic with <<= operator prohibited
lsh %r1, 1
mov %r0, 2
exit
