#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

/* LLVM's classic packet loads: BPF_LD_ABS with a constant offset, BPF_LD_IND otherwise. */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");

/* As ld_abs_void_subprog with an offset in a register (BPF_LD_IND): the same rule, the same message. */
static __noinline void ld_ind_void(struct __sk_buff *skb, __u32 off)
{
  volatile __u32 sink = load_byte(skb, off);
  (void)sink;
}

SEC("socket")
__failure __msg("LD_ABS is only allowed in functions that return 'int'")
int ld_ind_void_subprog(struct __sk_buff *skb)
{
  ld_ind_void(skb, skb->len);
  return 0;
}

char _license[] SEC("license") = "GPL";
