; Initialises 16 bytes and reads a u32 at r10 - 14.
; category: stack
; expect: misaligned stack access off
; kernel-errno: EACCES
; kernel: misaligned stack access off 0+0+-14 size 4
stdw [%r10-16], 0
stdw [%r10-8], 0
ldxw %r0, [%r10-14]
exit
