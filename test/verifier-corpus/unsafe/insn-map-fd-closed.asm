; An ld_imm64 map reference to fd 999, which is not open.
; category: insn
; expect: fd 999 is not pointing to valid bpf_map
; kernel-errno: EBADF
; kernel: fd 999 is not pointing to valid bpf_map
lddw %r1, map_by_fd(999)
mov %r0, 2
exit
