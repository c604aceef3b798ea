; Compares data_meta + 4 against data_end instead of data: metadata ends at data, so nothing is
; proven.
; category: packet_meta
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=4, R4(id=0,off=0,r=0)
; kernel: R4 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end
ldxw %r4, [%r1+8]            ; r4 = data_meta

mov %r5, %r4
add %r5, 4
jgt %r5, %r3, out
ldxw %r0, [%r4+0]
exit
out:
mov %r0, 2
exit
