; Stores into ctx->data: struct xdp_md is read-only.
; category: ctx
; expect: invalid bpf_context access off=0 size=4
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=0 size=4
mov %r2, 0
stxw [%r1+0], %r2
mov %r0, 2
exit
