; Calls bpf_l3_csum_replace (#10).
; category: insn
; expect: program of this type cannot use helper bpf_l3_csum_replace#10
; kernel-errno: EINVAL
; kernel: program of this type cannot use helper bpf_l3_csum_replace#10
mov %r2, 0
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 10
mov %r0, 2
exit
