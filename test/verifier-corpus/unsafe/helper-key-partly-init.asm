; Only 2 of the 4 key bytes were written.
; category: helper_args
; maps: m:hash:4:8:16
; kernel-mode: no-perfmon
; expect: read from stack R2 off -4+2 size 4
; kernel-errno: EACCES
; kernel: invalid read from stack R2 off -4+2 size 4
sth [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
mov %r0, 2
exit
