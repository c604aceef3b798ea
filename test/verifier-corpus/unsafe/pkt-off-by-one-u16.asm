; Proves 14 bytes and reads a u16 at offset 13, straddling the end of the proven range.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=13 size=2, R2(id=0,off=13,r=14)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
ldxh %r0, [%r2+13]
exit
out:
mov %r0, 2
exit
