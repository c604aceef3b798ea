; Three frames of 192 bytes each: 576 bytes in total.
; category: size
; expect: combined stack size of 3 calls is 576. Too large
; kernel-errno: EACCES
; kernel: combined stack size of 3 calls is 576. Too large
stdw [%r10-192], 0
call local f
mov %r0, 2
exit
f:
stdw [%r10-192], 0
call local g
exit
g:
stdw [%r10-192], 0
mov %r0, 0
exit
