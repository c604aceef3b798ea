; Moves the frame pointer down 8 bytes (an attempt to grow the stack).
; category: insn
; expect: frame pointer is read only
; kernel-errno: EACCES
; kernel: frame pointer is read only
add %r10, -8
mov %r0, 2
exit
