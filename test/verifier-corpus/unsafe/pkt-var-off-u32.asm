; Adds a u32 loaded from the packet (up to 4G) to data, then checks ptr + 1 against data_end: a
; variable part that may exceed MAX_PACKET_OFF (64 KiB) gains no range from the comparison.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=1, R2(id=1,off=0,r=0)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
ldxw %r5, [%r2+0]
add %r2, %r5
mov %r4, %r2
add %r4, 1
jgt %r4, %r3, out
ldxb %r0, [%r2+0]
exit
out:
mov %r0, 2
exit
