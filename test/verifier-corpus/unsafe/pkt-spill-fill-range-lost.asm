; Spills data to the stack, proves the range on the register, reloads data from ctx over it and
; reads at offset 20 (only 14 proven for the old id).
; category: packet
; expect: invalid access to packet
; kernel-errno: EACCES
; kernel: invalid access to packet, off=20 size=1, R5(id=0,off=20,r=14)
; kernel: R5 offset is outside of the packet
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
stxdw [%r10-8], %r2
ldxdw %r5, [%r10-8]
ldxb %r0, [%r5+20]
exit
out:
mov %r0, 2
exit
