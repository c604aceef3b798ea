; Reads 8 bytes at r10 + 8, above the frame.
; category: stack
; expect: invalid read from stack R10 off=8 size=8
; kernel-errno: EACCES
; kernel: invalid read from stack R10 off=8 size=8
ldxdw %r0, [%r10+8]
exit
