; A store-immediate with a source register set.
; category: insn
; patch: 0 src=1
; expect: BPF_ST uses reserved fields
; kernel-errno: EINVAL
; kernel: BPF_ST uses reserved fields
stw [%r10-4], 0
mov %r0, 2
exit
