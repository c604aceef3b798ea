; for (i = 0; i < 10; i--): the counter runs away from the bound.
; category: loop
; expect: BPF program is too large
; kernel-errno: E2BIG
; kernel: BPF program is too large. Processed 1000001 insn
mov %r1, 0
l:
add %r1, -1
jslt %r1, 10, l
mov %r0, 2
exit
