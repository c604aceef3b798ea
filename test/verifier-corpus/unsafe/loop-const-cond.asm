; Loops while r1 == 0 without ever changing r1.
; category: loop
; expect: infinite loop detected
; kernel-errno: EINVAL
; kernel: infinite loop detected at insn 2
mov %r1, 0
mov %r0, 2
l:
jeq %r1, 0, l
exit
