; Sets the low bit of a stack pointer.
; category: ptr_arith
; expect: R2 bitwise operator |= on pointer prohibited
; kernel-errno: EACCES
; kernel: R2 bitwise operator |= on pointer prohibited
mov %r2, %r10
or %r2, 1
mov %r0, 2
exit
