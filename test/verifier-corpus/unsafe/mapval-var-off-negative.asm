; Adds a signed index in -4..3 to the value pointer.
; category: map_value
; maps: m:array:4:8:4
; expect: R0 min value is negative
; kernel-errno: EACCES
; kernel: R0 min value is negative, either use unsigned index or do a if (index >=0) check.
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
ldxb %r1, [%r0+0]
and %r1, 7
add %r1, -4
add %r0, %r1
ldxb %r1, [%r0+0]
out:
mov %r0, 2
exit
