; Adds 1 << 30 to a packet pointer.
; category: ptr_arith
; expect: math between pkt pointer and 1073741824 is not allowed
; kernel-errno: EINVAL
; kernel: math between pkt pointer and 1073741824 is not allowed
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

add %r2, 0x40000000
mov %r0, 2
exit
