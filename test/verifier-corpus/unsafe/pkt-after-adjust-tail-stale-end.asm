; Checks 60 bytes, shrinks the packet with bpf_xdp_adjust_tail, then reads byte 59 through the old
; pointer.
; category: packet
; expect: invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R7 invalid mem access 'scalar'
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r6, %r1
mov %r4, %r2
add %r4, 60
jgt %r4, %r3, out
mov %r7, %r2
mov %r1, %r6
mov %r2, -20
call 65
ldxb %r0, [%r7+59]
exit
out:
mov %r0, 2
exit
