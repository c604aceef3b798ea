; Calls bpf_skb_store_bytes (#9), a socket-buffer helper.
; category: insn
; expect: program of this type cannot use helper bpf_skb_store_bytes#9
; kernel-errno: EINVAL
; kernel: program of this type cannot use helper bpf_skb_store_bytes#9
mov %r2, 0
mov %r3, %r10
mov %r4, 0
mov %r5, 0
call 9
mov %r0, 2
exit
