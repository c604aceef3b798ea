; Returns data.
; category: return
; kernel-mode: no-perfmon
; expect: R0 leaks addr as return value
; kernel-errno: EACCES
; kernel: R0 leaks addr as return value
ldxw %r0, [%r1+0]
exit
