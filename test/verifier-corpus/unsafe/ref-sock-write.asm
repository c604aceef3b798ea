; Writes into the socket (struct bpf_sock is read-only).
; category: reference
; expect: cannot write into sock
; kernel-errno: EACCES
; kernel: R6 cannot write into sock
stdw [%r10-16], 0
stdw [%r10-8], 0
mov %r2, %r10
add %r2, -16
mov %r3, 12
mov %r4, -1
mov %r5, 0
call 84

jeq %r0, 0, out
mov %r6, %r0
stw [%r6+4], 2
mov %r1, %r6
call 86
out:
mov %r0, 2
exit
