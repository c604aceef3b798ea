; Overwrites the frame pointer.
; category: insn
; expect: frame pointer is read only
; kernel-errno: EACCES
; kernel: frame pointer is read only
mov %r10, 0
mov %r0, 2
exit
