; An ld_imm64 map value reference (BPF_PSEUDO_MAP_VALUE) to fd 999.
; category: insn
; expect: fd 999 is not pointing to valid bpf_map
; kernel-errno: EBADF
; kernel: fd 999 is not pointing to valid bpf_map
lddw %r1, map_val(map_by_fd(999))
mov %r0, 2
exit
