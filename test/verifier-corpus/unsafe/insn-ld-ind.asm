; Classic BPF indirect packet load (LD_IND).
; category: insn
; expect: BPF_LD_[ABS|IND] instructions not allowed for this program type
; kernel-errno: EINVAL
; kernel: BPF_LD_[ABS|IND] instructions not allowed for this program type
mov %r6, %r1
mov %r2, 0
ldindb %r2, 0
exit
