; An ld_imm64 map reference (BPF_PSEUDO_MAP_FD) to fd 0, which is not a map.
; category: insn
; expect: fd 0 is not pointing to valid bpf_map
; kernel-errno: EINVAL
; kernel: fd 0 is not pointing to valid bpf_map
lddw %r1, map_by_fd(0)
mov %r0, 2
exit
