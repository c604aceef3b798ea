; Reads ctx->data as a u64: the fields are u32.
; category: ctx
; expect: invalid bpf_context access off=0 size=8
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=0 size=8
ldxdw %r2, [%r1+0]
mov %r0, 2
exit
