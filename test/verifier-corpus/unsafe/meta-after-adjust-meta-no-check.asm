; Grows the metadata area with bpf_xdp_adjust_meta(-8), reloads data_meta and writes without
; comparing against data.
; category: packet_meta
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=8, R4(id=0,off=0,r=0)
; kernel: R4 offset is outside of the packet
mov %r6, %r1
mov %r2, -8
call 54
ldxw %r4, [%r6+8]
stdw [%r4+0], 0
mov %r0, 2
exit
