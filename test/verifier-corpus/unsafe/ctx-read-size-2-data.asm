; Narrow (2-byte) read of ctx->data: packet pointers must be read whole.
; category: ctx
; expect: invalid bpf_context access off=0 size=2
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=0 size=2
ldxh %r0, [%r1+0]
exit
