; The second slot of an ld_imm64 has a non-zero opcode.
; category: insn
; patch: 1 code=0x18
; expect: invalid bpf_ld_imm64 insn
; kernel-errno: EINVAL
; kernel: invalid bpf_ld_imm64 insn
lddw %r1, 0
mov %r0, 2
exit
