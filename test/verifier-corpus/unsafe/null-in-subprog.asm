; Passes the unchecked lookup result to a subprogram that reads through it.
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
mov %r1, %r0
call local f
exit
f:
ldxw %r0, [%r1+0]
exit
