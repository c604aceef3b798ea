; Copies a packet pointer with a 32-bit move, which truncates it to a number, then reads through
; it.
; category: ptr_arith
; expect: R4 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R4 invalid mem access 'scalar'
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r5, %r2
add %r5, 14
jgt %r5, %r3, out
mov32 %r4, %r2
ldxb %r0, [%r4+0]
exit
out:
mov %r0, 2
exit
