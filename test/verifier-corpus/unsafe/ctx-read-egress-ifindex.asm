; Reads ctx->egress_ifindex in a plain XDP program: the field exists only for programs attached to
; a DEVMAP entry (expected_attach_type BPF_XDP_DEVMAP).
; category: ctx
; expect: invalid bpf_context access off=20 size=4
; kernel-errno: EACCES
; kernel: invalid bpf_context access off=20 size=4
ldxw %r0, [%r1+20]
exit
