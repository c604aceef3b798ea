; The second slot of an ld_imm64 names registers.
; category: insn
; patch: 1 dst=1 src=2
; expect: invalid bpf_ld_imm64 insn
; kernel-errno: EINVAL
; kernel: invalid bpf_ld_imm64 insn
lddw %r1, 0
mov %r0, 2
exit
