; Adds -512 + (0..1023) to r10 - 8: part of the range lies below the frame.
; category: stack
; expect: invalid variable-offset write to stack R2
; kernel-errno: EACCES
; kernel: invalid variable-offset write to stack R2 var_off=(0x0; 0xffffffffffffffff) off=-8 size=1
ldxw %r3, [%r1+12]
and %r3, 1023
add %r3, -512
mov %r2, %r10
add %r2, -8
add %r2, %r3
stb [%r2+0], 0
mov %r0, 2
exit
