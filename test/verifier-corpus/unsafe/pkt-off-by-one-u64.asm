; Proves 34 bytes (Ethernet + IPv4) and reads a u64 at offset 30: the last 4 bytes are unproven.
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=30 size=8, R2(id=0,off=30,r=34)
; kernel: R2 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 34
jgt %r4, %r3, out
ldxdw %r0, [%r2+30]
exit
out:
mov %r0, 2
exit
