; Reads the first byte of the packet without ever comparing against data_end.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxb %r0, [%r2+0]
exit
