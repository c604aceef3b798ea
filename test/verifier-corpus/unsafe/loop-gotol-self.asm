; A gotol (32-bit offset jump) to itself.
; category: loop
; expect: infinite loop detected
; kernel-errno: EINVAL
; kernel: infinite loop detected at insn 1
mov %r0, 2
l:
ja32 l
