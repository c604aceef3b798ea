// bpf_fib_lookup on a netns (net/core/filter.c's bpf_ipv4_fib_lookup / bpf_ipv6_fib_lookup): an
// XDP or tc program asks the machine's FIB and neighbour tables where a packet it is about to
// forward goes — out of which device, to which next-hop MAC, from which MAC — through a struct
// bpf_fib_lookup it fills in and reads back. The answer is BPF_FIB_LKUP_RET_* (0 = forward as
// told), or a negative errno for a malformed request.
import { BPF_FIB_LKUP_RET, BPF_FIB_LOOKUP, BPF_FIB_LOOKUP_PARAMS, BPF_FIB_LOOKUP_SIZE } from '../../bpf-vm/helpers/fib-lookup.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { dev_get_by_index } from './dev.ts';
import { In6Addr, ipv6_addr_any } from './in6-addr.ts';
import type { Net } from './net-namespace.ts';
import { neigh_lookup4, neigh_lookup6, NUD_VALID } from './neighbour.ts';
import type { NetDevice } from './netdevice.ts';
import { AF_INET, AF_INET6 } from './socket-constants.ts';
import { __in_dev_get, inet_select_addr } from '../ipv4/devinet.ts';
import { fib_lookup, RTN, RT_TABLE, type FibAlias } from '../ipv4/route.ts';
import { __in6_dev_get, ipv6_dev_get_saddr } from '../ipv6/addrconf.ts';
import { fib6_lookup, ipv6_prefix_match, RTF } from '../ipv6/route.ts';

// The uapi's constants and struct bpf_fib_lookup's layout are bpf-vm's (the helper's side).
export { BPF_FIB_LKUP_RET, BPF_FIB_LOOKUP, BPF_FIB_LOOKUP_PARAMS, BPF_FIB_LOOKUP_SIZE };
const R = BPF_FIB_LKUP_RET;
const F = BPF_FIB_LOOKUP;
const BPF_FIB_LOOKUP_MASK = 0x3f;
const P = BPF_FIB_LOOKUP_PARAMS;

const src6 = new In6Addr();
const dst6 = new In6Addr();

function write6(a: In6Addr, dv: DataView, off: number): void {
  dv.setUint32(off, a.w0);
  dv.setUint32(off + 4, a.w1);
  dv.setUint32(off + 8, a.w2);
  dv.setUint32(off + 12, a.w3);
}

// The params of a program's helper call live in its stack or a map value: one buffer call after
// call, so one DataView serves them all.
let view: DataView = new DataView(new ArrayBuffer(BPF_FIB_LOOKUP_SIZE));
function params_view(params: Uint8Array): DataView {
  if (view.buffer !== params.buffer || view.byteOffset !== params.byteOffset) {
    view = new DataView(params.buffer, params.byteOffset, BPF_FIB_LOOKUP_SIZE);
  }
  return view;
}

/**
 * bpf_fib_lookup for `net`: params (struct bpf_fib_lookup) read and written in place. The MTU is
 * always checked against tot_len (the XDP helper's rule; a tc caller with tot_len 0 may then
 * compare its skb with mtu_result, as bpf_skb_fib_lookup does).
 */
export function bpf_fib_lookup(net: Net, params: Uint8Array, flags: number): number {
  if (params.length < BPF_FIB_LOOKUP_SIZE) return -ERRNO.EINVAL;
  if ((flags & ~BPF_FIB_LOOKUP_MASK) !== 0) return -ERRNO.EINVAL;
  const dv = params_view(params);
  switch (params[P.family]) {
    case AF_INET:
      return bpf_ipv4_fib_lookup(net, params, dv, flags);
    case AF_INET6:
      return bpf_ipv6_fib_lookup(net, params, dv, flags);
    default:
      return -ERRNO.EAFNOSUPPORT;
  }
}

/** bpf_fib_set_fwd_params: no VLAN, and the MTU found. */
function bpf_fib_set_fwd_params(dv: DataView, mtu: number): number {
  dv.setUint16(P.h_vlan_proto, 0);
  dv.setUint16(P.h_vlan_TCI, 0);
  if (mtu !== 0) dv.setUint16(P.mtu_result, mtu, true);
  return R.BPF_FIB_LKUP_RET_SUCCESS;
}

function set_macs(params: Uint8Array, ha: Uint8Array, dev: NetDevice): void {
  const sa = dev.dev_addr;
  for (let i = 0; i < 6; i++) {
    params[P.dmac + i] = ha[i]!;
    params[P.smac + i] = sa[i] ?? 0;
  }
}

/** fib_table_lookup's error for a route type, mapped to the helper's codes (the "map fib lookup errors" switch). */
function fib_type_ret(type: number): number {
  switch (type) {
    case RTN.RTN_BLACKHOLE:
      return R.BPF_FIB_LKUP_RET_BLACKHOLE;
    case RTN.RTN_UNREACHABLE:
      return R.BPF_FIB_LKUP_RET_UNREACHABLE;
    case RTN.RTN_PROHIBIT:
      return R.BPF_FIB_LKUP_RET_PROHIBIT;
    default:
      return R.BPF_FIB_LKUP_RET_NOT_FWDED;
  }
}

function bpf_ipv4_fib_lookup(net: Net, params: Uint8Array, dv: DataView, flags: number): number {
  const dev = dev_get_by_index(net, dv.getUint32(P.ifindex, true));
  if (dev === undefined) return -ERRNO.ENODEV;
  const in_dev = __in_dev_get(dev);
  if (in_dev === null || (in_dev.cnf.forwarding === 0 && net.ipv4.sysctl_ip_forward === 0)) return R.BPF_FIB_LKUP_RET_FWD_DISABLED;
  const oif = (flags & F.BPF_FIB_LOOKUP_OUTPUT) !== 0 ? dev.ifindex : 0;
  const daddr = dv.getUint32(P.ipv4_dst);
  let fa: FibAlias | undefined;
  if ((flags & F.BPF_FIB_LOOKUP_DIRECT) !== 0) {
    // One table, no rules: main unless TBID names another.
    const tbid = (flags & F.BPF_FIB_LOOKUP_TBID) !== 0 ? dv.getUint32(P.tbid, true) : RT_TABLE.RT_TABLE_MAIN;
    const fib = net.ipv4.fib;
    const list = tbid === RT_TABLE.RT_TABLE_MAIN ? fib.main : tbid === RT_TABLE.RT_TABLE_LOCAL ? fib.local : null;
    if (list === null) return R.BPF_FIB_LKUP_RET_NOT_FWDED;
    for (const f of list) {
      if (((daddr & f.mask) >>> 0) !== f.dst) continue;
      if (oif !== 0 && f.dev.ifindex !== oif) continue;
      fa = f;
      break;
    }
  } else {
    fa = fib_lookup(net, daddr, oif);
  }
  if (fa === undefined) return R.BPF_FIB_LKUP_RET_NOT_FWDED;
  if (fa.type !== RTN.RTN_UNICAST) return fib_type_ret(fa.type);
  const out = fa.dev;
  // ip_mtu_from_fib_result: a learnt path MTU for the destination, else the device's.
  let mtu = out.mtu;
  const ex = net.ipv4.fib.exceptions.get(daddr);
  if (ex !== undefined && ex.pmtu !== 0 && ex.pmtu < mtu && net.boot.clock.get_jiffies_64() < ex.expires) mtu = ex.pmtu;
  const tot_len = dv.getUint16(P.tot_len, true);
  if (tot_len > mtu) {
    dv.setUint16(P.mtu_result, mtu, true);
    return R.BPF_FIB_LKUP_RET_FRAG_NEEDED;
  }
  dv.setUint32(P.rt_metric, 0, true);
  dv.setUint32(P.ifindex, out.ifindex, true);
  if ((flags & F.BPF_FIB_LOOKUP_SRC) !== 0) {
    const src = fa.prefsrc !== 0 ? fa.prefsrc : inet_select_addr(out, fa.gw !== 0 ? fa.gw : daddr);
    if (src === 0) return R.BPF_FIB_LKUP_RET_NO_SRC_ADDR;
    dv.setUint32(P.ipv4_src, src);
  }
  if ((flags & F.BPF_FIB_LOOKUP_SKIP_NEIGH) !== 0) return bpf_fib_set_fwd_params(dv, mtu);
  const nh = fa.gw !== 0 ? fa.gw : daddr;
  if (fa.gw !== 0) dv.setUint32(P.ipv4_dst, nh);
  const neigh = neigh_lookup4(net.ipv4.arp_tbl, nh, out);
  if (neigh === undefined || (neigh.nud_state & NUD_VALID) === 0) return R.BPF_FIB_LKUP_RET_NO_NEIGH;
  set_macs(params, neigh.ha, out);
  return bpf_fib_set_fwd_params(dv, mtu);
}

function bpf_ipv6_fib_lookup(net: Net, params: Uint8Array, dv: DataView, flags: number): number {
  const dev = dev_get_by_index(net, dv.getUint32(P.ifindex, true));
  if (dev === undefined) return -ERRNO.ENODEV;
  const idev = __in6_dev_get(dev);
  if (idev === null || idev.cnf.forwarding === 0) return R.BPF_FIB_LKUP_RET_FWD_DISABLED;
  const oif = (flags & F.BPF_FIB_LOOKUP_OUTPUT) !== 0 ? dev.ifindex : 0;
  const daddr = dst6.read(params, P.ipv6_dst);
  src6.read(params, P.ipv6_src);
  // vxo's IPv6 FIB is one table: DIRECT and TBID (main) look where the rules would.
  if ((flags & F.BPF_FIB_LOOKUP_TBID) !== 0 && dv.getUint32(P.tbid, true) !== RT_TABLE.RT_TABLE_MAIN) return R.BPF_FIB_LKUP_RET_NOT_FWDED;
  const f = fib6_lookup(net, daddr, oif);
  if (f === undefined || (f.flags & RTF.RTF_LOCAL) !== 0) return R.BPF_FIB_LKUP_RET_NOT_FWDED;
  const out = f.dev;
  // ip6_mtu_from_fib6: a learnt path MTU for the destination, else the device's.
  let mtu = out.mtu;
  const chain = net.ipv6.fib6.exceptions.get((daddr.w0 ^ daddr.w1 ^ daddr.w2 ^ daddr.w3) | 0);
  if (chain !== undefined) {
    for (const e of chain) {
      if (ipv6_prefix_match(e.daddr, daddr, 128) && e.pmtu !== 0 && e.pmtu < mtu && net.boot.clock.get_jiffies_64() < e.expires) mtu = e.pmtu;
    }
  }
  const tot_len = dv.getUint16(P.tot_len, true);
  if (tot_len > mtu) {
    dv.setUint16(P.mtu_result, mtu, true);
    return R.BPF_FIB_LKUP_RET_FRAG_NEEDED;
  }
  dv.setUint32(P.rt_metric, 0, true);
  dv.setUint32(P.ifindex, out.ifindex, true);
  if ((flags & F.BPF_FIB_LOOKUP_SRC) !== 0) {
    if (!ipv6_addr_any(f.prefsrc)) src6.copy_from(f.prefsrc);
    else if (ipv6_dev_get_saddr(net, out, daddr, src6) !== 0) return R.BPF_FIB_LKUP_RET_NO_SRC_ADDR;
    write6(src6, dv, P.ipv6_src);
  }
  if ((flags & F.BPF_FIB_LOOKUP_SKIP_NEIGH) !== 0) return bpf_fib_set_fwd_params(dv, mtu);
  if ((f.flags & RTF.RTF_GATEWAY) !== 0) {
    daddr.copy_from(f.gw);
    write6(daddr, dv, P.ipv6_dst);
  }
  const neigh = neigh_lookup6(net.ipv6.nd_tbl, daddr, out);
  if (neigh === undefined || (neigh.nud_state & NUD_VALID) === 0) return R.BPF_FIB_LKUP_RET_NO_NEIGH;
  set_macs(params, neigh.ha, out);
  return bpf_fib_set_fwd_params(dv, mtu);
}
