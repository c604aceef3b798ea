; Negates r10.
; category: insn
; expect: frame pointer is read only
; kernel-errno: EACCES
; kernel: frame pointer is read only
neg %r10
mov %r0, 2
exit
