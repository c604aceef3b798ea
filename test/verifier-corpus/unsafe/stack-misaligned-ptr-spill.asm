; Spills the ctx pointer to r10 - 12: 8-byte stack accesses must be aligned.
; category: stack
; expect: misaligned stack access off
; kernel-errno: EACCES
; kernel: misaligned stack access off 0+0+-12 size 8
stxdw [%r10-12], %r1
mov %r0, 2
exit
