; An ld_imm64 with src_reg 7, which names no pseudo source.
; category: insn
; patch: 0 src=7
; expect: unrecognized bpf_ld_imm64 insn
; kernel-errno: EINVAL
; kernel: unrecognized bpf_ld_imm64 insn
lddw %r1, 0
mov %r0, 2
exit
