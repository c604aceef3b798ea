; bpf_csum_diff over 20 bytes of packet with only 14 proven.
; category: helper_args
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=0 size=20, R1(id=0,off=0,r=14)
; kernel: R1 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
mov %r1, %r2
mov %r2, 20
mov %r3, 0
mov %r4, 0
mov %r5, 0
call 28
out:
mov %r0, 2
exit
