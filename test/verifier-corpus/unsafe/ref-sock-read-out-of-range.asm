; Reads 4 bytes at offset 200 of struct bpf_sock.
; category: reference
; expect: invalid sock access off=200 size=4
; kernel-errno: EACCES
; kernel: R6 invalid sock access off=200 size=4
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
ldxw %r7, [%r6+200]
mov %r1, %r6
call 86
out:
mov %r0, 2
exit
