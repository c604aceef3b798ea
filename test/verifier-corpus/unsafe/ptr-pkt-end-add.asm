; Adds 1 to data_end.
; category: ptr_arith
; expect: R3 pointer arithmetic on pkt_end prohibited
; kernel-errno: EACCES
; kernel: R3 pointer arithmetic on pkt_end prohibited
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

add %r3, 1
mov %r0, 2
exit
