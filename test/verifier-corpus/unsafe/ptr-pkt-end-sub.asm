; Subtracts 14 from data_end to find the last header (a common mistake: compare data + 14 against
; data_end instead).
; category: ptr_arith
; expect: R3 pointer arithmetic on pkt_end prohibited
; kernel-errno: EACCES
; kernel: R3 pointer arithmetic on pkt_end prohibited
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

add %r3, -14
jgt %r2, %r3, out
ldxb %r0, [%r2+0]
exit
out:
mov %r0, 2
exit
