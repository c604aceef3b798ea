; Reads the u32 after the last field of struct xdp_md (offset 24).
; category: ctx
; expect: invalid bpf_context access off=24 size=4
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=24 size=4
ldxw %r0, [%r1+24]
exit
