; ld_imm64 into r10.
; category: insn
; expect: frame pointer is read only
; kernel-errno: EACCES
; kernel: frame pointer is read only
lddw %r10, 0x1000
mov %r0, 2
exit
