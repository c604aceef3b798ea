; Stores into ctx->rx_queue_index.
; category: ctx
; expect: invalid bpf_context access off=16 size=4
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=16 size=4
mov %r2, 3
stxw [%r1+16], %r2
mov %r0, 2
exit
