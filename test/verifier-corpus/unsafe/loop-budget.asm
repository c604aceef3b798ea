; A bounded loop of 2,000,000 iterations: each iteration is a new state, and the verifier
; 1M-instruction budget runs out.
; category: loop
; expect: BPF program is too large
; kernel-errno: E2BIG
; kernel: BPF program is too large. Processed 1000001 insn
mov %r1, 0
l:
add %r1, 1
jlt %r1, 2000000, l
mov %r0, 2
exit
