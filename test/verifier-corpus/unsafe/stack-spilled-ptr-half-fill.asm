; Spills data (a packet pointer) and fills the upper half of the slot.
; category: stack
; expect: invalid size of register fill
; kernel-errno: EACCES
; kernel: invalid size of register fill
ldxw %r2, [%r1+0]
stxdw [%r10-8], %r2
ldxw %r3, [%r10-4]
mov %r0, 2
exit
