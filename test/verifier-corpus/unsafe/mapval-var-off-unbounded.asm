; Adds an unbounded u64 (the value itself) to the value pointer.
; category: map_value
; maps: m:array:4:8:4
; expect: math between map_value pointer and register with unbounded min value is not allowed
; kernel-errno: EINVAL
; kernel: math between map_value pointer and register with unbounded min value is not allowed
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
ldxdw %r1, [%r0+0]
add %r0, %r1
ldxb %r1, [%r0+0]
out:
mov %r0, 2
exit
