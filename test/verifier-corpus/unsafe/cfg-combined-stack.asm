; main uses 256 bytes of stack and calls a subprogram that uses 320: together over the 512-byte
; limit.
; category: size
; expect: combined stack size of 2 calls is 576. Too large
; kernel-errno: EACCES
; kernel: combined stack size of 2 calls is 576. Too large
stdw [%r10-256], 0
call local f
mov %r0, 2
exit
f:
stdw [%r10-320], 0
mov %r0, 0
exit
