; Calls bpf_skb_vlan_push (#18), a socket-buffer helper (XDP pushes tags with adjust_head).
; category: insn
; expect: program of this type cannot use helper bpf_skb_vlan_push#18
; kernel-errno: EINVAL
; kernel: program of this type cannot use helper bpf_skb_vlan_push#18
mov %r2, 0x81
mov %r3, 1
call 18
mov %r0, 2
exit
