; A variable-offset write at r10 - 8 + 0..255: most of the range lies above the frame.
; category: stack
; expect: invalid variable-offset write to stack R2
; kernel-errno: EINVAL
; kernel: invalid variable-offset write to stack R2 var_off=(0x0; 0xff) off=-8 size=1
ldxw %r3, [%r1+12]
and %r3, 255
mov %r2, %r10
add %r2, -8
add %r2, %r3
stb [%r2+0], 0
mov %r0, 2
exit
