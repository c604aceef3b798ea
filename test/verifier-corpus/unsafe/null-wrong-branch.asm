; The NULL test is inverted: the read happens on the path where the pointer is NULL.
; category: null
; maps: m:hash:4:8:16
; expect: R0 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R0 invalid mem access 'scalar'
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jne %r0, 0, out
ldxdw %r1, [%r0+0]
out:
mov %r0, 2
exit
