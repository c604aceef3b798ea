; Writes 4 bytes at r10 - 520, below the 512-byte frame.
; category: stack
; expect: invalid write to stack R10 off=-520 size=4
; kernel-errno: EACCES
; kernel: invalid write to stack R10 off=-520 size=4
stw [%r10-520], 0
mov %r0, 2
exit
