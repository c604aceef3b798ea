; Increments a counter of unknown start value until it wraps to 0: the abstract state repeats.
; category: loop
; expect: infinite loop detected
; kernel-errno: EINVAL
; kernel: infinite loop detected at insn 4
ldxw %r2, [%r1+12]
ldxw %r3, [%r1+16]
lsh %r3, 32
or %r2, %r3
l:
add %r2, 1
jne %r2, 0, l
mov %r0, 2
exit
