; An atomic add into the packet, after a correct bounds check: atomics on packet memory are not
; allowed.
; category: packet
; expect: BPF_ATOMIC stores into R2 pkt is not allowed
; kernel-errno: EACCES
; kernel: BPF_ATOMIC stores into R2 pkt is not allowed
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 14
jgt %r4, %r3, out
mov %r5, 1
lock add32 [%r2+0], %r5
out:
mov %r0, 2
exit
