; Reads a stack slot never written.
; category: stack
; kernel-mode: no-perfmon
; expect: invalid read from stack
; kernel-errno: EACCES
; kernel: invalid read from stack R10 off=-8 size=8
ldxdw %r0, [%r10-8]
exit
