; Adds a packet byte to the ctx pointer and reads a field through it.
; category: ptr_arith
; expect: variable ctx access var_off=
; kernel-errno: EACCES
; kernel: variable ctx access var_off=(0x0; 0xff) disallowed
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 1
jgt %r4, %r3, out
ldxb %r5, [%r2+0]
add %r1, %r5
ldxw %r0, [%r1+0]
exit
out:
mov %r0, 2
exit
