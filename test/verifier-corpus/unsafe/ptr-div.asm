; Divides the frame pointer copy by 2.
; category: ptr_arith
; expect: R2 pointer arithmetic with /= operator prohibited
; kernel-errno: EACCES
; kernel: R2 pointer arithmetic with /= operator prohibited
mov %r2, %r10
div %r2, 2
mov %r0, 2
exit
