; bpf_map_update_elem on a DEVMAP from a program: devmaps are filled from user space only, and the
; kernel treats them as read-only for programs.
; category: helper_args
; maps: m:devmap:4:4:4
; expect: write into map forbidden
; kernel-errno: EACCES
; kernel: write into map forbidden
stw [%r10-4], 0
stw [%r10-8], 1
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -8
mov %r4, 0
lddw %r1, map_by_fd(m)
call 2
mov %r0, 2
exit
