; Adds 12 to the ctx pointer and reads through it: ctx accesses must use the unmodified pointer
; with a constant offset in the instruction.
; category: ctx
; expect: dereference of modified ctx ptr R1 off=12 disallowed
; kernel-errno: EACCES
; kernel: dereference of modified ctx ptr R1 off=12 disallowed
add %r1, 12
ldxw %r0, [%r1+0]
exit
