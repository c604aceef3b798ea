; Bounds the packet by comparing data + 14 against data_meta (which lies before data) and reads
; the packet.
; category: packet_meta
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end
ldxw %r4, [%r1+8]            ; r4 = data_meta

mov %r5, %r2
add %r5, 14
jgt %r5, %r4, out
ldxb %r0, [%r2+0]
exit
out:
mov %r0, 2
exit
