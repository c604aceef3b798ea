; An atomic add into a read-only (BPF_F_RDONLY_PROG) map value.
; category: map_value
; maps: m:array:4:8:1:128
; expect: write into map forbidden
; kernel-errno: EACCES
; kernel: write into map forbidden, value_size=8 off=0 size=8
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
mov %r1, 1
lock add [%r0+0], %r1
out:
mov %r0, 2
exit
