; Adds an unbounded scalar to the frame pointer.
; category: stack
; expect: math between fp pointer and register with unbounded min value is not allowed
; kernel-errno: EINVAL
; kernel: math between fp pointer and register with unbounded min value is not allowed
ldxw %r2, [%r1+0]
ldxw %r3, [%r1+4]
mov %r4, %r2
add %r4, 8
jgt %r4, %r3, out
ldxdw %r5, [%r2+0]
mov %r6, %r10
add %r6, %r5
stb [%r6-8], 0
out:
mov %r0, 2
exit
