; Adds 1 << 30 to the frame pointer copy and stores through it.
; category: ptr_arith
; expect: math between fp pointer and 1073741824 is not allowed
; kernel-errno: EINVAL
; kernel: math between fp pointer and 1073741824 is not allowed
mov %r2, %r10
add %r2, 0x40000000
stb [%r2+0], 0
mov %r0, 2
exit
