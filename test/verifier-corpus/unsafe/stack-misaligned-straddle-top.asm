; Writes then reads 8 bytes at r10 - 4: the access straddles the top of the frame. The stack is
; always checked for alignment, and an 8-byte access at -4 is misaligned: that is reported first.
; category: stack
; expect: misaligned stack access off
; kernel-errno: EACCES
; kernel: misaligned stack access off 0+0+-4 size 8
stdw [%r10-4], 0
ldxdw %r0, [%r10-4]
exit
