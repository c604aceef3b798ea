; Loads a value from the context into r10.
; category: insn
; expect: frame pointer is read only
; kernel-errno: EACCES
; kernel: frame pointer is read only
ldxw %r10, [%r1+12]
mov %r0, 2
exit
