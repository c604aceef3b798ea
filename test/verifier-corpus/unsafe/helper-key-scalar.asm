; bpf_map_lookup_elem with the key as a number instead of a pointer.
; category: helper_args
; maps: m:hash:4:8:16
; expect: R2 type=scalar expected=
; kernel-errno: EACCES
; kernel: R2 type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
mov %r2, 0
lddw %r1, map_by_fd(m)
call 1
mov %r0, 2
exit
