; Looks up an ARRAY map with a key the verifier does not know (rx_queue_index) and reads the
; result without a NULL check. (With a constant in-range key the kernel knows an array lookup
; cannot fail.)
; category: null
; maps: m:array:4:8:4
; expect: R0 invalid mem access 'map_value_or_null'
; kernel-errno: EACCES
; kernel: R0 invalid mem access 'map_value_or_null'
ldxw %r2, [%r1+16]
stxw [%r10-4], %r2
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
ldxdw %r1, [%r0+0]
mov %r0, 2
exit
