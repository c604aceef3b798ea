; Writes 8 bytes at r10 - 516: the access straddles the bottom of the frame. The stack is always
; checked for alignment, and an 8-byte access at -516 is misaligned: that is reported first.
; category: stack
; expect: misaligned stack access off
; kernel-errno: EACCES
; kernel: misaligned stack access off 0+0+-516 size 8
stdw [%r10-516], 0
mov %r0, 2
exit
