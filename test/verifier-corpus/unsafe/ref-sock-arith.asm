; Adds 4 to a socket pointer before releasing it.
; category: reference
; expect: R0 pointer arithmetic on sock prohibited
; kernel-errno: EACCES
; kernel: R0 pointer arithmetic on sock prohibited
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84

jeq %r0, 0, out
add %r0, 4
mov %r1, %r0
call 86
out:
mov %r0, 2
exit
