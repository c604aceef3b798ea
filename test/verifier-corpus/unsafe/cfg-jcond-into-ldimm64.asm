; A conditional jump to the second half of an ld_imm64.
; category: cfg
; expect: jump into the middle of ldimm64 insn 3
; kernel-errno: EINVAL
; kernel: jump into the middle of ldimm64 insn 3
mov %r0, 2
jeq %r0, 1, +2
mov %r1, 0
lddw %r1, 0x1122334455667788
exit
