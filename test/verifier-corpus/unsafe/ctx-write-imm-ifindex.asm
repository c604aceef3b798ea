; Stores an immediate into ctx->ingress_ifindex.
; category: ctx
; expect: invalid bpf_context access off=12 size=4
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=12 size=4
stw [%r1+12], 1
mov %r0, 2
exit
