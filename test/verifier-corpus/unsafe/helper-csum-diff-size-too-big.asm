; bpf_csum_diff over 16 bytes of an 8-byte stack buffer.
; category: helper_args
; expect: stack R1 off=-8 size=16
; kernel-errno: EINVAL
; kernel: invalid read from stack R1 off=-8 size=16
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 16
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
mov %r0, 2
exit
