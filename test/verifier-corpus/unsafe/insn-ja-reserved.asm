; A ja with a register set.
; category: insn
; patch: 0 src=1
; expect: BPF_JA uses reserved fields
; kernel-errno: EINVAL
; kernel: BPF_JA uses reserved fields
ja +0
mov %r0, 2
exit
