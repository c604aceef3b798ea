#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

/* LLVM's classic packet loads: BPF_LD_ABS with a constant offset, BPF_LD_IND otherwise. */
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

/* An int subprogram may use LD_ABS: a load past the packet's end returns 0 from it at once, so
 * the + 1 is never reached on the 64-byte test frame. */
static __noinline int ld_abs_int(struct __sk_buff *skb)
{
  return load_word(skb, 100) + 1;
}

SEC("socket")
__success __retval(0)
int ld_abs_int_subprog(struct __sk_buff *skb)
{
  return ld_abs_int(skb);
}

char _license[] SEC("license") = "GPL";
