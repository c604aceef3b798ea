; Writes into a value of a map created with BPF_F_RDONLY_PROG (as libbpf creates .rodata).
; category: map_value
; maps: m:array:4:8:1:128
; expect: write into map forbidden
; kernel-errno: EACCES
; kernel: write into map forbidden, value_size=8 off=0 size=4
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
stw [%r0+0], 1
out:
mov %r0, 2
exit
