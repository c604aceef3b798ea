; IHL-style variable offset: checks ptr + 1 against data_end and reads 2 bytes at ptr.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=2, R2(id=1,off=0,r=1)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
ldxb %r5, [%r2+0]
and %r5, 0x3c
add %r2, %r5
mov %r4, %r2
add %r4, 1
jgt %r4, %r3, out
ldxh %r0, [%r2+0]
exit
out:
mov %r0, 2
exit
