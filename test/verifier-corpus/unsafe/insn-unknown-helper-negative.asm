; Calls helper -1.
; category: insn
; expect: invalid func unknown#-1
; kernel-errno: EINVAL
; kernel: invalid func unknown#-1
call -1
mov %r0, 2
exit
