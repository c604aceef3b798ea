; Spills the ctx pointer, overwrites one of its bytes, fills the slot back and uses it as ctx: the
; slot now holds a plain number.
; category: stack
; expect: R2 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R2 invalid mem access 'scalar'
stxdw [%r10-8], %r1
stb [%r10-8], 0
ldxdw %r2, [%r10-8]
ldxw %r0, [%r2+0]
exit
