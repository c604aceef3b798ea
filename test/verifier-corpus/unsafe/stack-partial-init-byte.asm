; Writes one byte at r10 - 4 and reads a u32 there.
; category: stack
; kernel-mode: no-perfmon
; expect: invalid read from stack off -4+1 size 4
; kernel-errno: EACCES
; kernel: invalid read from stack off -4+1 size 4
stb [%r10-4], 0
ldxw %r0, [%r10-4]
exit
