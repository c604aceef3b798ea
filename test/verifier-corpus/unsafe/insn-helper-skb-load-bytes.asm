; Calls bpf_skb_load_bytes (#26).
; category: insn
; expect: program of this type cannot use helper bpf_skb_load_bytes#26
; kernel-errno: EINVAL
; kernel: program of this type cannot use helper bpf_skb_load_bytes#26
stdw [%r10-8], 0
mov %r2, 0
mov %r3, %r10
add %r3, -8
mov %r4, 8
call 26
mov %r0, 2
exit
