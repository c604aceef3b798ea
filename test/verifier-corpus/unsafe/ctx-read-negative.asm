; Reads the u32 before the context.
; category: ctx
; expect: invalid bpf_context access off=-4 size=4
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=-4 size=4
ldxw %r0, [%r1-4]
exit
