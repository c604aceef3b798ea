; Spills the ctx pointer and fills 4 of its 8 bytes back into a register.
; category: ctx
; expect: invalid size of register fill
; kernel-errno: EACCES
; kernel: invalid size of register fill
stxdw [%r10-8], %r1
ldxw %r2, [%r10-8]
mov %r0, 2
exit
