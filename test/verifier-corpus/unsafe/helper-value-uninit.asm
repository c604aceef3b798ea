; bpf_map_update_elem with an 8-byte value on stack never written.
; category: helper_args
; maps: m:hash:4:8:16
; kernel-mode: no-perfmon
; expect: read from stack R3
; kernel-errno: EACCES
; kernel: invalid read from stack R3 off=-16 size=8
stw [%r10-4], 0
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
mov %r4, 0
lddw %r1, map_by_fd(m)
call 2
mov %r0, 2
exit
