; Proves 4 bytes of metadata and reads the byte before data_meta.
; category: packet_meta
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=-1 size=1, R4(id=0,off=-1,r=4)
; kernel: R4 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end
ldxw %r4, [%r1+8]            ; r4 = data_meta

mov %r5, %r4
add %r5, 4
jgt %r5, %r2, out
ldxb %r0, [%r4-1]
exit
out:
mov %r0, 2
exit
