; A subprogram writes 8 bytes above its own frame pointer (the caller's frame is reachable only
; through a pointer passed to it).
; category: stack
; expect: invalid write to stack R10 off=0 size=8
; kernel-errno: EACCES
; kernel: invalid write to stack R10 off=0 size=8
call local f
mov %r0, 2
exit
f:
stdw [%r10+0], 0
mov %r0, 0
exit
