; A load with a non-zero imm field.
; category: insn
; patch: 0 imm=1
; expect: BPF_LDX uses reserved fields
; kernel-errno: EINVAL
; kernel: BPF_LDX uses reserved fields
ldxw %r0, [%r1+12]
exit
