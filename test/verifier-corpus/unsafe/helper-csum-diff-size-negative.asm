; bpf_csum_diff with from_size = -4.
; category: helper_args
; expect: R2 min value is negative
; kernel-errno: EACCES
; kernel: R2 min value is negative, either use unsigned or 'var &= const'
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, -4
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
mov %r0, 2
exit
