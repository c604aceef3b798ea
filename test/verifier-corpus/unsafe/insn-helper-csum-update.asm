; Calls bpf_csum_update (#40), a socket-buffer helper XDP programs may not use.
; category: insn
; expect: program of this type cannot use helper bpf_csum_update#40
; kernel-errno: EINVAL
; kernel: program of this type cannot use helper bpf_csum_update#40
mov %r2, 0
call 40
mov %r0, 2
exit
