; A subprogram that spins forever.
; category: loop
; expect: infinite loop detected
; kernel-errno: EINVAL
; kernel: infinite loop detected at insn 4
call local f
mov %r0, 2
exit
f:
mov %r0, 0
l:
ja l
