; An ld_imm64 whose second half is missing (the program ends after its first slot).
; category: cfg
; patch: 3 code=0x95
; expect: invalid bpf_ld_imm64 insn
; kernel-errno: EINVAL
; kernel: invalid bpf_ld_imm64 insn
mov %r0, 2
exit
lddw %r1, 1
