; bpf_csum_diff with a from_size taken from the packet (a u32: non-negative, but up to 4G).
; category: helper_args
; expect: R2 unbounded memory access
; kernel-errno: EACCES
; kernel: R2 unbounded memory access, use 'var &= const' or 'if (var < const)'
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 8
jgt %r4, %r3, out
ldxw %r6, [%r2+0]
stdw [%r10-8], 0
mov %r1, %r10
add %r1, -8
mov %r2, %r6
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
out:
mov %r0, 2
exit
