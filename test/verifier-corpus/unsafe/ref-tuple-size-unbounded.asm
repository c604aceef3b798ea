; bpf_sk_lookup_tcp with a tuple size taken from ingress_ifindex.
; category: reference
; expect: R3 unbounded memory access
; kernel-errno: EACCES
; kernel: R3 unbounded memory access, use 'var &= const' or 'if (var < const)'
mov %r6, %r1
ldxw %r3, [%r6+12]
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r4, -1
mov %r5, 0
call 84
jeq %r0, 0, out
mov %r1, %r0
call 86
out:
mov %r0, 2
exit
