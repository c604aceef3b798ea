; Initialises r10 - 8 and reads r10 - 16.
; category: stack
; kernel-mode: no-perfmon
; expect: invalid read from stack
; kernel-errno: EACCES
; kernel: invalid read from stack R10 off=-16 size=8
stdw [%r10-8], 0
ldxdw %r0, [%r10-16]
exit
