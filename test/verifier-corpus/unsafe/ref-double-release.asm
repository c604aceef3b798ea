; Releases the same socket twice: after the first release every copy of the pointer is a plain
; number.
; category: reference
; expect: R1 type=scalar expected=sock
; kernel-errno: EACCES
; kernel: R1 type=scalar expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_
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
mov %r1, %r6
call 86
out:
mov %r0, 2
exit
