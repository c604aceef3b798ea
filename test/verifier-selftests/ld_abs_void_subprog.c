#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

/* LLVM's classic packet loads: BPF_LD_ABS with a constant offset, BPF_LD_IND otherwise. */
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

/* A failing LD_ABS ends the subprogram with r0 = 0, a return value a void function does not
 * have: the kernel wants such a subprogram to return an int in its BTF prototype. */
static __noinline void ld_abs_void(struct __sk_buff *skb)
{
  volatile __u32 sink = load_word(skb, 0);
  (void)sink;
}

SEC("socket")
__failure __msg("LD_ABS is only allowed in functions that return 'int'")
int ld_abs_void_subprog(struct __sk_buff *skb)
{
  ld_abs_void(skb);
  return 0;
}

char _license[] SEC("license") = "GPL";
