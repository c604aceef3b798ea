; bpf_sk_lookup_tcp, a NULL check, and exit without bpf_sk_release.
; category: reference
; expect: Unreleased reference
; kernel-errno: EINVAL
; kernel: Unreleased reference id=2 alloc_insn=7
; kernel: BPF_EXIT instruction in main prog would lead to reference leak
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84

jeq %r0, 0, out
out:
mov %r0, 2
exit
