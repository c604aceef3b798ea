; Releases the socket only when ingress_ifindex is non-zero.
; category: reference
; expect: Unreleased reference
; kernel-errno: EINVAL
; kernel: Unreleased reference id=2 alloc_insn=8
; kernel: BPF_EXIT instruction in main prog would lead to reference leak
mov %r6, %r1
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84

jeq %r0, 0, out
ldxw %r2, [%r6+12]
jeq %r2, 0, out
mov %r1, %r0
call 86
out:
mov %r0, 2
exit
