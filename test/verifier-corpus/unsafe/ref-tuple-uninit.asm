; The tuple passed to bpf_sk_lookup_tcp was never written.
; category: reference
; kernel-mode: no-perfmon
; expect: read from stack R2
; kernel-errno: EACCES
; kernel: invalid read from stack R2 off=-16 size=12
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84
jeq %r0, 0, out
mov %r1, %r0
call 86
out:
mov %r0, 2
exit
