; A 32-bit move into r10.
; category: insn
; expect: frame pointer is read only
; kernel-errno: EACCES
; kernel: frame pointer is read only
mov32 %r10, 1
mov %r0, 2
exit
