; Writes at r10 + 0: the frame lies below the frame pointer.
; category: stack
; expect: invalid write to stack R10 off=0 size=4
; kernel-errno: EACCES
; kernel: invalid write to stack R10 off=0 size=4
stw [%r10+0], 0
mov %r0, 2
exit
