; A jump to itself.
; category: loop
; expect: infinite loop detected at insn 1
; kernel-errno: EINVAL
; kernel: infinite loop detected at insn 1
mov %r0, 2
l:
ja l
