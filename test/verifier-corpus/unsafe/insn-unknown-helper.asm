; Calls helper 9999.
; category: insn
; expect: invalid func unknown#9999
; kernel-errno: EINVAL
; kernel: invalid func unknown#9999
call 9999
mov %r0, 2
exit
