; Passes the unchecked lookup result as the value of bpf_map_update_elem.
; category: null
; maps: m:hash:4:8:16
; expect: R3 type=map_value_or_null expected=
; kernel-errno: EACCES
; kernel: R3 type=map_value_or_null expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
lddw %r1, map_by_fd(m)
call 1
mov %r3, %r0
mov %r2, %r10
add %r2, -4
mov %r4, 0
lddw %r1, map_by_fd(m)
call 2
out:
mov %r0, 2
exit
