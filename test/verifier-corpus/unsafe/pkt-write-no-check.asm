; Writes the destination MAC without any bounds check.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=8, R2(id=0,off=0,r=0)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

stdw [%r2+0], 0
mov %r0, 3
exit
