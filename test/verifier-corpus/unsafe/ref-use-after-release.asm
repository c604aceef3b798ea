; Reads sk->family (offset 4 of struct bpf_sock) after releasing the socket: the release turned
; every copy of the pointer into a plain number.
; category: reference
; expect: R6 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R6 invalid mem access 'scalar'
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84

jeq %r0, 0, out
mov %r6, %r0
mov %r1, %r6
call 86
ldxw %r0, [%r6+4]
exit
out:
mov %r0, 2
exit
