; Copies the first lookup result, does a second lookup and checks only the second: the copy is
; still maybe-NULL.
; category: null
; maps: m:hash:4:8:16
; expect: R6 invalid mem access 'map_value_or_null'
; kernel-errno: EACCES
; kernel: R6 invalid mem access 'map_value_or_null'
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
mov %r6, %r0
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
ldxdw %r1, [%r6+0]
out:
mov %r0, 2
exit
