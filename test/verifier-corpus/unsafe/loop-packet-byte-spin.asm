; Waits for a packet byte to change: while (*p == 0);
; category: loop
; expect: infinite loop detected
; kernel-errno: EINVAL
; kernel: infinite loop detected at insn 5
ldxw %r2, [%r1+0]            ; r2 = data
ldxw %r3, [%r1+4]            ; r3 = data_end

mov %r4, %r2
add %r4, 1
jgt %r4, %r3, out
l:
ldxb %r5, [%r2+0]
jeq %r5, 0, l
out:
mov %r0, 2
exit
