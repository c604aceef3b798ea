; bpf_sk_release of the ctx pointer.
; category: reference
; expect: R1 type=ctx expected=
; kernel-errno: EACCES
; kernel: R1 type=ctx expected=sock_common, sock, tcp_sock, xdp_sock, ptr_, trusted_ptr_
call 86
mov %r0, 2
exit
