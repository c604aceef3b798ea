; Code after the exit that no jump reaches.
; category: cfg
; expect: unreachable insn 2
; kernel-errno: EINVAL
; kernel: unreachable insn 2
mov %r0, 2
exit
mov %r0, 1
exit
