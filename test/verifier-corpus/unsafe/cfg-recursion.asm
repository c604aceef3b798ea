; A subprogram that calls itself: the kernel follows the calls until the stack of frames is too
; deep.
; category: cfg
; expect: the call stack of 9 frames is too deep
; kernel-errno: E2BIG
; kernel: the call stack of 9 frames is too deep
call local f
mov %r0, 2
exit
f:
call local f
mov %r0, 0
exit
