; Tries to move the metadata by storing into ctx->data_meta.
; category: packet_meta
; expect: invalid bpf_context access
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=8 size=4
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end
ldxw %r4, [%r1+8]            ; r4 = data_meta

add %r4, -4
stxw [%r1+8], %r4
mov %r0, 2
exit
