; Checks one copy of data, then reloads ctx->data: the fresh pointer has no proven range.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=1, R5(id=0,off=0,r=0)
; kernel: R5 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
ldxw %r5, [%r1+0]
ldxb %r0, [%r5+0]
exit
out:
mov %r0, 2
exit
