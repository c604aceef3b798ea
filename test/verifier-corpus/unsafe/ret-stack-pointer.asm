; Returns a stack pointer.
; category: return
; kernel-mode: no-perfmon
; expect: R0 leaks addr as return value
; kernel-errno: EACCES
; kernel: R0 leaks addr as return value
mov %r0, %r10
exit
