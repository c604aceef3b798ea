; data_end - data is a length (a scalar); reads through it as a pointer.
; category: ptr_arith
; expect: R3 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R3 invalid mem access 'scalar'
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

sub %r3, %r2
ldxb %r0, [%r3+0]
exit
