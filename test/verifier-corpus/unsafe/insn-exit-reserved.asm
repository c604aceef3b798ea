; An exit instruction with imm = 1.
; category: insn
; patch: 1 imm=1
; expect: BPF_EXIT uses reserved fields
; kernel-errno: EINVAL
; kernel: BPF_EXIT uses reserved fields
mov %r0, 2
exit
