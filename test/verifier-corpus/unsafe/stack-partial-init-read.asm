; Writes the low 4 bytes of a slot and reads all 8.
; category: stack
; kernel-mode: no-perfmon
; expect: invalid read from stack off -8+4 size 8
; kernel-errno: EACCES
; kernel: invalid read from stack off -8+4 size 8
stw [%r10-8], 0
ldxdw %r0, [%r10-8]
exit
