; Calls bpf_xdp_adjust_head, reloads data and data_end and writes 4 bytes without a new check.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=4, R2(id=0,off=0,r=0)
; kernel: R2 offset is outside of the packet
mov %r6, %r1
mov %r2, -4
call 44
ldxw %r2, [%r6+0]
ldxw %r3, [%r6+4]
stw [%r2+0], 0
mov %r0, 2
exit
