; Adds a sign-extended byte (-128..127) to the packet pointer: the minimum is negative.
; category: packet
; expect: min value is negative
; kernel-errno: EACCES
; kernel: R2 min value is negative, either use unsigned index or do a if (index >=0) check.
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
ldxb %r5, [%r2+0]
lsh %r5, 56
arsh %r5, 56
add %r2, %r5
ldxb %r0, [%r2+0]
exit
out:
mov %r0, 2
exit
