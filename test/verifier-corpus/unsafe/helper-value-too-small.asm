; bpf_map_update_elem with the value at r10 - 4 for an 8-byte value: it would extend above the
; frame.
; category: helper_args
; maps: m:hash:4:8:16
; expect: stack R3 off=-4 size=8
; kernel-errno: EINVAL
; kernel: invalid read from stack R3 off=-4 size=8
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -4
mov %r4, 0
lddw %r1, map_by_fd(m)
call 2
mov %r0, 2
exit
