; The key pointer is r10 - 2 for a 4-byte key: the key would extend above the frame.
; category: helper_args
; maps: m:hash:4:8:16
; expect: stack R2 off=-2 size=4
; kernel-errno: EINVAL
; kernel: invalid read from stack R2 off=-2 size=4
sth [%r10-2], 0
mov %r2, %r10
add %r2, -2
lddw %r1, map_by_fd(m)
call 1
mov %r0, 2
exit
