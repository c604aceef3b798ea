; Classic BPF packet load (LD_ABS): not allowed in XDP programs.
; category: packet
; expect: BPF_LD_[ABS|IND] instructions not allowed for this program type
; kernel-errno: EINVAL
; kernel: BPF_LD_[ABS|IND] instructions not allowed for this program type
mov %r6, %r1
ldabsb 0
exit
