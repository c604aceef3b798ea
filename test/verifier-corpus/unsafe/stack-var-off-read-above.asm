; Initialises r10 - 8 and reads one byte at r10 - 8 + 0..15: the upper half of the range lies
; above the frame.
; category: stack
; expect: invalid variable-offset read from stack R2
; kernel-errno: EINVAL
; kernel: invalid variable-offset read from stack R2 var_off=(0x0; 0xf) off=-8 size=1
stdw [%r10-8], 0
ldxw %r3, [%r1+12]
and %r3, 15
mov %r2, %r10
add %r2, -8
add %r2, %r3
ldxb %r0, [%r2+0]
exit
