; Checks 14 bytes, calls bpf_xdp_adjust_head, then reads through the pointer from before the call:
; the helper invalidated every packet pointer.
; category: packet
; expect: R7 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R7 invalid mem access 'scalar'
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r6, %r1
mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
mov %r7, %r2
mov %r2, -4
call 44
ldxb %r0, [%r7+0]
exit
out:
mov %r0, 2
exit
