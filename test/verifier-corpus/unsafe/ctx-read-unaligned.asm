; Reads a u32 at offset 2, across data and data_end.
; category: ctx
; expect: invalid bpf_context access off=2 size=4
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=2 size=4
ldxw %r0, [%r1+2]
exit
