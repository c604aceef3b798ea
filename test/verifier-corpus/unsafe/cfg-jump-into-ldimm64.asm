; A conditional jump over nothing lands on the second half of an ld_imm64.
; category: cfg
; expect: jump into the middle of ldimm64 insn 2
; kernel-errno: EINVAL
; kernel: jump into the middle of ldimm64 insn 2
mov %r0, 2
jeq %r0, 2, +1
lddw %r1, 0x1122334455667788
exit
