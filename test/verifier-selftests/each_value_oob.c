#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

struct bpf_map;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} h SEC(".maps");

static __u64 past_value(struct bpf_map *m, __u32 *k, __u32 *v, void *c)
{
  v[1] = 1;
  return 0;
}

SEC("xdp")
__failure __msg("invalid access to map value, value_size=4 off=4 size=4")
int each_value_oob(struct xdp_md *ctx)
{
  bpf_for_each_map_elem(&h, past_value, NULL, 0);
  return 0;
}

char _license[] SEC("license") = "GPL";
