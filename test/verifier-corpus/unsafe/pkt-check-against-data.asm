; Compares data + 14 against another packet pointer (data + 100) instead of data_end: no range is
; proven.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
mov %r5, %r2
add %r5, 100
jgt %r4, %r5, out
ldxb %r0, [%r2+0]
exit
out:
mov %r0, 2
exit
