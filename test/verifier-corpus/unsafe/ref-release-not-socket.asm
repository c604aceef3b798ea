; bpf_sk_release of a stack pointer.
; category: reference
; expect: R1 type=fp expected=
; kernel-errno: EACCES
; kernel: R1 type=fp expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_
mov %r1, %r10
call 86
mov %r0, 2
exit
