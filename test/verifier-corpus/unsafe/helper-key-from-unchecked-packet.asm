; Uses the first 4 packet bytes as the key without a bounds check.
; category: helper_args
; maps: m:hash:4:8:16
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=4, R2(id=0,off=0,r=0)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]
lddw %r1, map_by_fd(m)
call 1
mov %r0, 2
exit
