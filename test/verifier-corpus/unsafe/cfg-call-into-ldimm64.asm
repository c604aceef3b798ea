; A bpf-to-bpf call whose target is the second half of an ld_imm64: the new subprogram starts
; inside the ld_imm64, so the code before it ends with half an instruction.
; category: cfg
; expect: last insn is not an exit or jmp
; kernel-errno: EINVAL
; kernel: last insn is not an exit or jmp
call local +3
mov %r0, 2
exit
lddw %r0, 0x1122334455667788
exit
