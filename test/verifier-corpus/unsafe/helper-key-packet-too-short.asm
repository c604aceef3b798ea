; Proves 2 packet bytes and passes them as a 4-byte key.
; category: helper_args
; maps: m:hash:4:8:16
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=4, R2(id=0,off=0,r=2)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 2
jgt %r4, %r3, out
lddw %r1, map_by_fd(m)
call 1
out:
mov %r0, 2
exit
