; Atomic add to ctx->ingress_ifindex.
; category: ctx
; expect: BPF_ATOMIC stores into R1 ctx is not allowed
; kernel-errno: EACCES
; kernel: BPF_ATOMIC stores into R1 ctx is not allowed
mov %r2, 1
lock add32 [%r1+12], %r2
mov %r0, 2
exit
