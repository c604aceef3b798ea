; bpf_strtol with buf_len 0: the size must be positive.
; category: helper_args
; expect: R2 invalid zero-sized read
; kernel-errno: EACCES
; kernel: R2 invalid zero-sized read: u64=[0,0]
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, 0
mov %r3, 0
mov %r4, %r10
add %r4, -16
call 105
mov %r0, 2
exit
