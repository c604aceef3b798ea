; Adds a variable (0..4) to the ctx pointer and reads.
; category: ctx
; expect: variable ctx access var_off=
; kernel-errno: EACCES
; kernel: variable ctx access var_off=(0x0; 0x4) disallowed
ldxw %r2, [%r1+12]
and %r2, 4
add %r1, %r2
ldxw %r0, [%r1+0]
exit
