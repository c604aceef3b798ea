; The slot is written only when ingress_ifindex is non-zero.
; category: stack
; kernel-mode: no-perfmon
; expect: invalid read from stack
; kernel-errno: EACCES
; kernel: invalid read from stack R10 off=-8 size=8
ldxw %r2, [%r1+12]
jeq %r2, 0, rd
stdw [%r10-8], 7
rd:
ldxdw %r0, [%r10-8]
exit
