; Opcode 0xff does not exist.
; category: insn
; patch: 1 code=0xff
; expect: unknown opcode ff
; kernel-errno: EINVAL
; kernel: unknown opcode ff
mov %r0, 2
mov %r0, 2
exit
