; Proves 4 bytes of metadata, then calls bpf_xdp_adjust_meta and writes through the old data_meta
; pointer.
; category: packet_meta
; expect: R7 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R7 invalid mem access 'scalar'
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end
ldxw %r4, [%r1+8]            ; r4 = data_meta

mov %r6, %r1
mov %r5, %r4
add %r5, 4
jgt %r5, %r2, out
mov %r7, %r4
mov %r1, %r6
mov %r2, -4
call 54
stw [%r7+0], 1
out:
mov %r0, 2
exit
