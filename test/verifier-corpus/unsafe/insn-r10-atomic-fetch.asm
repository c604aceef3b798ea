; An atomic fetch-add whose old value would land in r10.
; category: insn
; expect: frame pointer is read only
; kernel-errno: EACCES
; kernel: frame pointer is read only
stdw [%r10-8], 0
lock fetch add [%r10-8], %r10
mov %r0, 2
exit
