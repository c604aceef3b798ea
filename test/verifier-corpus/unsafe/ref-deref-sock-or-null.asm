; Reads sk->family without checking the lookup result for NULL.
; category: reference
; expect: R0 invalid mem access 'sock_or_null'
; kernel-errno: EACCES
; kernel: R0 invalid mem access 'sock_or_null'
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84

ldxw %r1, [%r0+4]
mov %r0, 2
exit
