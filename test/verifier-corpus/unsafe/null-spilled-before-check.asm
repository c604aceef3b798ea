; Spills the lookup result, then fills it back and reads through it without any check.
; category: null
; maps: m:hash:4:8:16
; expect: R1 invalid mem access 'map_value_or_null'
; kernel-errno: EACCES
; kernel: R1 invalid mem access 'map_value_or_null'
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
stxdw [%r10-16], %r0
ldxdw %r1, [%r10-16]
ldxw %r0, [%r1+0]
exit
