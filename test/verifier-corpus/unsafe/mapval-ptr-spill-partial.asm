; Spills a map value pointer and fills a 4-byte half of it.
; category: map_value
; maps: m:array:4:8:4
; expect: invalid size of register fill
; kernel-errno: EACCES
; kernel: invalid size of register fill
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
jeq %r0, 0, out
stxdw [%r10-16], %r0
ldxw %r1, [%r10-16]
out:
mov %r0, 2
exit
