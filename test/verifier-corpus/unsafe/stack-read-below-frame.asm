; Reads 8 bytes at r10 - 520.
; category: stack
; expect: invalid read from stack R10 off=-520 size=8
; kernel-errno: EACCES
; kernel: invalid read from stack R10 off=-520 size=8
ldxdw %r0, [%r10-520]
exit
