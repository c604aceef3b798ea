; Adds an unbounded 64-bit value loaded from the packet to the packet pointer.
; category: packet
; expect: math between pkt pointer and register with unbounded min value is not allowed
; kernel-errno: EINVAL
; kernel: math between pkt pointer and register with unbounded min value is not allowed
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
ldxdw %r5, [%r2+0]
add %r2, %r5
ldxb %r0, [%r2+0]
exit
out:
mov %r0, 2
exit
