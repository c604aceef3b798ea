; Byte-swaps r10.
; category: insn
; expect: frame pointer is read only
; kernel-errno: EACCES
; kernel: frame pointer is read only
be64 %r10
mov %r0, 2
exit
