#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "selftest.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} h SEC(".maps");

SEC("xdp")
__failure __msg("invalid mem access 'map_value_or_null'")
int map_no_null_check(struct xdp_md *ctx)
{
  __u32 k = 1;
  __u64 *v = bpf_map_lookup_elem(&h, &k);

  return *v;
}

char _license[] SEC("license") = "GPL";
