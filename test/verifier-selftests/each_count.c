#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

struct bpf_map;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 5);
  __type(key, __u32);
  __type(value, __u32);
} a SEC(".maps");

static __u64 count(struct bpf_map *m, __u32 *k, __u32 *v, __u32 *n)
{
  *n += *k;
  return 0;
}

SEC("xdp")
__success __retval(510)
int each_count(struct xdp_md *ctx)
{
  __u32 n = 0;
  long r = bpf_for_each_map_elem(&a, count, &n, 0);

  return r * 100 + n;
}

char _license[] SEC("license") = "GPL";
