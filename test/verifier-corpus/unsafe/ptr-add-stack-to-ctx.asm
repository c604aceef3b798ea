; Adds the frame pointer to the ctx pointer.
; category: ptr_arith
; expect: R1 pointer += pointer prohibited
; kernel-errno: EACCES
; kernel: R1 pointer += pointer prohibited
add %r1, %r10
mov %r0, 2
exit
