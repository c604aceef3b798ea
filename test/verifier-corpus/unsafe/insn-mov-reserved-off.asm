; A register move with off = 2 (0, 8, 16 and 32 are defined for movsx, and 1 for addr_space_cast).
; category: insn
; patch: 0 off=2
; expect: BPF_MOV uses reserved fields
; kernel-errno: EINVAL
; kernel: BPF_MOV uses reserved fields
mov %r0, %r1
mov %r0, 2
exit
