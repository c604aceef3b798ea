; Reads at offset 4096 of the context.
; category: ctx
; expect: invalid bpf_context access off=4096 size=4
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=4096 size=4
ldxw %r0, [%r1+4096]
exit
