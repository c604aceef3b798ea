; bpf_strtol writing its result through the ctx pointer.
; category: helper_args
; expect: R4 type=ctx expected=
; kernel-errno: EACCES
; kernel: R4 type=ctx expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_
mov %r6, %r1
stdw [%r10-8], 0x31
mov %r1, %r10
add %r1, -8
mov %r2, 8
mov %r3, 0
mov %r4, %r6
call 105
mov %r0, 2
exit
