; bpf_sk_lookup_tcp with a 36-byte tuple size (IPv6) over a 16-byte stack buffer.
; category: reference
; expect: stack R2 off=-16 size=36
; kernel-errno: EINVAL
; kernel: invalid read from stack R2 off=-16 size=36
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 36
mov %r4, -1
mov %r5, 0
call 84
jeq %r0, 0, out
mov %r1, %r0
call 86
out:
mov %r0, 2
exit
