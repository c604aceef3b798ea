; An instruction every path jumps over.
; category: cfg
; expect: unreachable insn 2
; kernel-errno: EINVAL
; kernel: unreachable insn 2
mov %r0, 2
ja +1
mov %r0, 1
exit
