; Narrow (1-byte) read of ctx->ingress_ifindex.
; category: ctx
; expect: invalid bpf_context access off=12 size=1
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=12 size=1
ldxb %r0, [%r1+12]
exit
