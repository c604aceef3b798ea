; Reads one byte at r10 - 520 + 0..15: the lower half of the range lies below the 512-byte frame.
; category: stack
; expect: invalid variable-offset read from stack R2
; kernel-errno: EACCES
; kernel: invalid variable-offset read from stack R2 var_off=(0x0; 0xf) off=-520 size=1
ldxw %r3, [%r1+12]
and %r3, 15
mov %r2, %r10
add %r2, -520
add %r2, %r3
ldxb %r0, [%r2+0]
exit
