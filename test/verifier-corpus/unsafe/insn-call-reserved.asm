; A helper call with off = 1.
; category: insn
; patch: 0 off=1
; expect: BPF_CALL uses reserved fields
; kernel-errno: EINVAL
; kernel: BPF_CALL uses reserved fields
call 5
mov %r0, 2
exit
