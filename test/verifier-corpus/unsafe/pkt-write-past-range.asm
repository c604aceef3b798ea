; Proves 14 bytes and writes a u32 at offset 12.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=12 size=4, R2(id=0,off=12,r=14)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
stw [%r2+12], 0
mov %r0, 2
exit
out:
mov %r0, 2
exit
