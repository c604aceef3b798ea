// bpf_fib_lookup for tc and XDP (bpf_skb_fib_lookup / bpf_xdp_fib_lookup, net/core/filter.c): the
// argument checks are done here, the route and neighbour lookup by the machine's stack
// (BpfNetHost.fib_lookup), which reads and writes struct bpf_fib_lookup in place.
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import { ARG, RET, type HelperProto } from './proto.ts';

/** enum bpf_func_id: FN(fib_lookup, 69). */
export const BPF_FUNC_fib_lookup = 69;
/** sizeof(struct bpf_fib_lookup). */
export const BPF_FIB_LOOKUP_SIZE = 64;
/** struct bpf_fib_lookup's fields (unions share offsets). */
export const BPF_FIB_LOOKUP_PARAMS = {
  family: 0, l4_protocol: 1, sport: 2, dport: 4, tot_len: 6, mtu_result: 6, ifindex: 8, tos: 12,
  flowinfo: 12, rt_metric: 12, ipv4_src: 16, ipv6_src: 16, ipv4_dst: 32, ipv6_dst: 32,
  h_vlan_proto: 48, h_vlan_TCI: 50, tbid: 48, mark: 52, smac: 52, dmac: 58,
} as const;
/** enum BPF_FIB_LKUP_RET_*. */
export const BPF_FIB_LKUP_RET = {
  BPF_FIB_LKUP_RET_SUCCESS: 0,
  BPF_FIB_LKUP_RET_BLACKHOLE: 1,
  BPF_FIB_LKUP_RET_UNREACHABLE: 2,
  BPF_FIB_LKUP_RET_PROHIBIT: 3,
  BPF_FIB_LKUP_RET_NOT_FWDED: 4,
  BPF_FIB_LKUP_RET_FWD_DISABLED: 5,
  BPF_FIB_LKUP_RET_UNSUPP_LWT: 6,
  BPF_FIB_LKUP_RET_NO_NEIGH: 7,
  BPF_FIB_LKUP_RET_FRAG_NEEDED: 8,
  BPF_FIB_LKUP_RET_NO_SRC_ADDR: 9,
} as const;
/** The flags bpf_fib_lookup knows (uapi bpf.h, through Linux 6.10's BPF_FIB_LOOKUP_MARK). */
export const BPF_FIB_LOOKUP = {
  BPF_FIB_LOOKUP_DIRECT: 1 << 0,
  BPF_FIB_LOOKUP_OUTPUT: 1 << 1,
  BPF_FIB_LOOKUP_SKIP_NEIGH: 1 << 2,
  BPF_FIB_LOOKUP_TBID: 1 << 3,
  BPF_FIB_LOOKUP_SRC: 1 << 4,
  BPF_FIB_LOOKUP_MARK: 1 << 5,
} as const;
const KNOWN_FLAGS = Object.values(BPF_FIB_LOOKUP).reduce((a, b) => a | b, 0);
const AF_INET = 2;
const AF_INET6 = 10;

/** The device the lookup is made from: the skb's, or the XDP receive queue's. */
function callerIfindex(env: ExecEnv): number {
  if (env.xdp !== undefined) return env.xdp.ingressIfindex;
  const dev = env.skb?.dev;
  return dev === undefined || dev === null ? 0 : dev.ifindex;
}

export const fibLookup: HelperProto = {
  id: BPF_FUNC_fib_lookup,
  name: 'fib_lookup',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const R = env.R;
    const plen = R[6]!, flags = R[8]! >>> 0;
    // plen is an int: a negative one is as short as a small one.
    if (plen < BPF_FIB_LOOKUP_SIZE) { env.setR0Int(-ERRNO.EINVAL); return; }
    const mem = env.resolveMem(R[4]!, R[5]!, BPF_FIB_LOOKUP_SIZE, true, 'bpf_fib_lookup params');
    if ((flags & ~KNOWN_FLAGS) !== 0) { env.setR0Int(-ERRNO.EINVAL); return; }
    const params = mem.u8.subarray(env.addr, env.addr + BPF_FIB_LOOKUP_SIZE);
    const family = params[0]!;
    if (family !== AF_INET && family !== AF_INET6) { env.setR0Int(-ERRNO.EAFNOSUPPORT); return; }
    const host = env.netHost;
    // No stack: a namespace without devices, where params->ifindex names none (dev_get_by_index
    // fails) and the kernel's lookup returns -ENODEV before looking at a route.
    if (host === undefined) { env.setR0Int(-ERRNO.ENODEV); return; }
    env.setR0Int(host.fib_lookup(params, flags, callerIfindex(env)));
  },
};
