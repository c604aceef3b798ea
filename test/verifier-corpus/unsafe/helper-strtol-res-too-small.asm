; bpf_strtol writing its 8-byte result to r10 - 4.
; category: helper_args
; expect: stack R4 off=-4 size=8
; kernel-errno: EINVAL
; kernel: invalid write to stack R4 off=-4 size=8
stdw [%r10-16], 0x31
mov %r1, %r10
add %r1, -16
mov %r2, 8
mov %r3, 0
mov %r4, %r10
add %r4, -4
call 105
mov %r0, 2
exit
