; Reads through data_end itself.
; category: packet
; expect: R3 invalid mem access 'pkt_end'
; kernel-errno: EACCES
; kernel: R3 invalid mem access 'pkt_end'
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

ldxb %r0, [%r3+0]
exit
