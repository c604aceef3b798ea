; Releases the lookup result without checking it for NULL.
; category: reference
; expect: R1 type=sock_or_null expected=
; kernel-errno: EACCES
; kernel: R1 type=sock_or_null expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84

mov %r1, %r0
call 86
mov %r0, 2
exit
