; A two-instruction loop whose state never changes.
; category: loop
; expect: infinite loop detected
; kernel-errno: EINVAL
; kernel: infinite loop detected at insn 1
mov %r0, 2
l:
mov %r1, 0
ja l
