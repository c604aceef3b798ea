// The socket helpers (net/core/filter.c): the lookups (bpf_sk_lookup_tcp/udp, bpf_skc_lookup_tcp),
// bpf_sk_release, the casts (bpf_sk_fullsock, bpf_tcp_sock), bpf_get_socket_cookie, bpf_sk_assign
// in its tc and SK_LOOKUP forms, and the SYN cookie helpers. bpf-vm does the checks the kernel's
// helper makes on its arguments; the stack behind env.netHost (prog/sock-host.ts) finds and judges
// sockets. A socket handed to the program lives in a slot of env.socks (interp/sock-slots.ts): the
// pointer is (SOCK_SLOT.SOCK, the slot's tag), or SOCK_SLOT.TCP_SOCK for the bpf_tcp_sock view.
// Without a host (a bare BPF_PROG_TEST_RUN) the lookups find nothing, as in a netns with no sockets.
import { ERRNO } from '../errno.ts';
import type { ExecEnv } from '../interp/env.ts';
import {
  BPF_SOCK, BPF_SOCK_TUPLE_IPV4_SIZE, BPF_SOCK_TUPLE_IPV6_SIZE, SOCK_SLOT,
} from '../prog/bpf-sock.ts';
import {
  BPF_SK_LOOKUP_KIND, type BpfLookupCaller, type BpfNetHost, type BpfSkLookupKind, type BpfSockRef,
} from '../prog/sock-host.ts';
import { skb_at_tc_ingress } from '../prog/skb-ctx.ts';
import { BPF_FUNC } from './ids.ts';
import { ARG, RET, type HelperProto } from './proto.ts';
import { SKC_CASTS } from './skc-casts.ts';

const AF_INET = 2;
const AF_INET6 = 10;
const IPPROTO_TCP = 6;
/** TCP_LISTEN as struct bpf_sock's state reports it. */
const BPF_TCP_LISTEN = 10;
/** struct tcphdr: 20 bytes; flags in byte 13, data offset in the high nibble of byte 12. */
const TCPHDR_SIZE = 20;

/** bpf_sk_assign's flags for SK_LOOKUP (uapi BPF_SK_LOOKUP_F_*). */
export const BPF_SK_LOOKUP_F_REPLACE = 1n;
export const BPF_SK_LOOKUP_F_NO_REUSEPORT = 2n;

// The tuple is copied out of program memory for the host; one buffer and two views, reused by every
// call (a host must not keep them), so a lookup allocates nothing.
const tupleBuf = new Uint8Array(BPF_SOCK_TUPLE_IPV6_SIZE);
const TUPLE4 = tupleBuf.subarray(0, BPF_SOCK_TUPLE_IPV4_SIZE);
const TUPLE6 = tupleBuf;
const caller: BpfLookupCaller = { ifindex: 0, skb: null };

/** r<n> as a 64-bit value. */
const arg64 = (env: ExecEnv, n: number): bigint =>
  (BigInt(env.R[2 * n + 1]! >>> 0) << 32n) | BigInt(env.R[2 * n]! >>> 0);

function setR0U64(env: ExecEnv, v: bigint): void {
  env.setR0(Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
}

/** The socket a pointer argument names (any view of a slot), or a fault for an unverified program. */
function sockArg(env: ExecEnv, n: number, helper: string): BpfSockRef {
  const sk = env.socks.get(env.R[2 * n + 1]!);
  if (sk === undefined) throw env.fault(`${helper}: R${n} is not a socket pointer`);
  return sk;
}

function hostOf(env: ExecEnv, helper: string): BpfNetHost {
  const h = env.netHost;
  // A socket pointer exists only where a host handed one out.
  if (h === undefined) throw env.fault(`${helper}: no network stack`);
  return h;
}

/**
 * __bpf_sk_lookup / __bpf_skc_lookup: the tuple's size tells the family (anything else finds
 * nothing), flags must be 0, netns is the caller's when its low 32 bits are negative (as s32) and
 * otherwise an id up to S32_MAX.
 */
function lookup(env: ExecEnv, kind: BpfSkLookupKind, helper: string): void {
  const R = env.R;
  const len = R[6]! >>> 0;
  const mem = env.resolveMem(R[4]!, R[5]!, len, false, `${helper} tuple`);
  const family = len === BPF_SOCK_TUPLE_IPV4_SIZE ? AF_INET : len === BPF_SOCK_TUPLE_IPV6_SIZE ? AF_INET6 : 0;
  const host = env.netHost;
  const netnsLo = R[8]!, netnsHi = R[9]!;
  const flagsNonZero = R[10] !== 0 || R[11] !== 0;
  if (family === 0 || flagsNonZero || host === undefined || (netnsLo >= 0 && netnsHi !== 0)) { env.setR0(0, 0); return; }
  const tuple = family === AF_INET ? TUPLE4 : TUPLE6;
  const src = mem.u8, at = env.addr;
  for (let i = 0; i < len; i++) tuple[i] = src[at + i]!;
  const x = env.xdp, skb = env.skb;
  if (x !== undefined) { caller.ifindex = x.ingressIfindex; caller.skb = null; }
  else { caller.ifindex = skb?.dev?.ifindex ?? 0; caller.skb = skb ?? null; }
  const sk = host.sk_lookup(caller, kind, family, tuple, netnsLo < 0 ? -1n : BigInt(netnsLo));
  caller.skb = null;
  if (sk === null) { env.setR0(0, 0); return; }
  env.setR0(SOCK_SLOT.SOCK, env.socks.acquire(host, sk, true, env.pc));
}

/** (ctx, struct bpf_sock_tuple *tuple, u32 tuple_size, u64 netns, u64 flags). */
const LOOKUP_ARGS = [ARG.ARG_PTR_TO_CTX, ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE, ARG.ARG_ANYTHING, ARG.ARG_ANYTHING] as const;

export const skLookupTcp: HelperProto = {
  id: BPF_FUNC.sk_lookup_tcp, name: 'sk_lookup_tcp', args: LOOKUP_ARGS, ret: RET.RET_PTR_TO_SOCKET_OR_NULL, acquires: true,
  impl(env) { lookup(env, BPF_SK_LOOKUP_KIND.SK_TCP, 'bpf_sk_lookup_tcp'); },
};

export const skLookupUdp: HelperProto = {
  id: BPF_FUNC.sk_lookup_udp, name: 'sk_lookup_udp', args: LOOKUP_ARGS, ret: RET.RET_PTR_TO_SOCKET_OR_NULL, acquires: true,
  impl(env) { lookup(env, BPF_SK_LOOKUP_KIND.SK_UDP, 'bpf_sk_lookup_udp'); },
};

export const skcLookupTcp: HelperProto = {
  id: BPF_FUNC.skc_lookup_tcp, name: 'skc_lookup_tcp', args: LOOKUP_ARGS, ret: RET.RET_PTR_TO_SOCK_COMMON_OR_NULL, acquires: true,
  impl(env) { lookup(env, BPF_SK_LOOKUP_KIND.SKC_TCP, 'bpf_skc_lookup_tcp'); },
};

export const skRelease: HelperProto = {
  id: BPF_FUNC.sk_release,
  name: 'sk_release',
  args: [ARG.ARG_PTR_TO_BTF_ID_SOCK_COMMON],
  ret: RET.RET_INTEGER,
  releases: true,
  impl(env) {
    if (!env.socks.release(env.netHost, env.R[3]!)) throw env.fault('bpf_sk_release: R1 is not a socket pointer');
    env.setR0Int(0);
  },
};

/** bpf_sk_fullsock: the same socket as a full one (sk_fullsock), or NULL for request and TIME_WAIT sockets. */
export const skFullsock: HelperProto = {
  id: BPF_FUNC.sk_fullsock,
  name: 'sk_fullsock',
  args: [ARG.ARG_PTR_TO_SOCK_COMMON],
  ret: RET.RET_PTR_TO_SOCKET_OR_NULL,
  castsRef: true,
  impl(env) {
    const sk = sockArg(env, 1, 'bpf_sk_fullsock');
    if (hostOf(env, 'bpf_sk_fullsock').sk_fullsock(sk) === sk) env.setR0(SOCK_SLOT.SOCK, env.R[3]!);
    else env.setR0(0, 0);
  },
};

/**
 * bpf_tcp_sock: the full socket's struct bpf_tcp_sock (a request socket's listener), or NULL when it
 * is not TCP. The listener of a request socket gets a slot of its own, holding no reference.
 */
export const tcpSock: HelperProto = {
  id: BPF_FUNC.tcp_sock,
  name: 'tcp_sock',
  args: [ARG.ARG_PTR_TO_SOCK_COMMON],
  ret: RET.RET_PTR_TO_TCP_SOCK_OR_NULL,
  castsRef: true,
  impl(env) {
    const sk = sockArg(env, 1, 'bpf_tcp_sock');
    const host = hostOf(env, 'bpf_tcp_sock');
    const full = host.sk_fullsock(sk);
    if (full === null) { env.setR0(0, 0); return; }
    let hi = env.R[3]!;
    if (full !== sk) hi = env.socks.acquire(host, full, false, env.pc);
    if (env.socks.exposeTcpSock(host, hi)) { env.setR0(SOCK_SLOT.TCP_SOCK, hi); return; }
    if (full !== sk) env.socks.release(host, hi);
    env.setR0(0, 0);
  },
};

/**
 * bpf_get_listener_sock: the listener a socket belongs to (itself if it listens, a request
 * socket's listener), or NULL. Listeners are RCU-freed: no reference, not a cast of the argument's.
 */
export const getListenerSock: HelperProto = {
  id: BPF_FUNC.get_listener_sock,
  name: 'get_listener_sock',
  args: [ARG.ARG_PTR_TO_SOCK_COMMON],
  ret: RET.RET_PTR_TO_SOCKET_OR_NULL,
  impl(env) {
    const sk = sockArg(env, 1, 'bpf_get_listener_sock');
    const host = hostOf(env, 'bpf_get_listener_sock');
    const full = host.sk_fullsock(sk);
    if (full === null) { env.setR0(0, 0); return; }
    const hi = full === sk ? env.R[3]! : env.socks.view(host, full, env.pc);
    const r = env.regions[hi & 0xffff];
    if (r !== undefined && r.dv.getUint32(SOCK_SLOT.SOCK + BPF_SOCK.state, true) === BPF_TCP_LISTEN) env.setR0(SOCK_SLOT.SOCK, hi);
    else env.setR0(0, 0);
  },
};

/** The bpf_skc_to_* casts live in skc-casts.ts; bpf_skc_to_tcp_sock is named here too, where the socket helpers are. */
export { skcToTcpSock } from './skc-casts.ts';

/** bpf_get_socket_cookie(skb): the cookie of skb->sk, 0 without one. */
export const getSocketCookie: HelperProto = {
  id: BPF_FUNC.get_socket_cookie,
  name: 'get_socket_cookie',
  args: [ARG.ARG_PTR_TO_CTX],
  ret: RET.RET_INTEGER,
  impl(env) {
    const sk = env.skb?.sk ?? null;
    const host = env.netHost;
    if (sk === null || host === undefined) { env.setR0(0, 0); return; }
    setR0U64(env, host.sk_cookie(sk));
  },
};

/**
 * bpf_sk_assign at tc: (skb, sk, flags). Flags, then only at ingress (the kernel's BPF_PROG_TEST_RUN
 * is not at ingress either); the stack checks the rest (same netns, hashed, alive).
 */
export const skAssign: HelperProto = {
  id: BPF_FUNC.sk_assign,
  name: 'sk_assign',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_PTR_TO_BTF_ID_SOCK_COMMON, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const sk = sockArg(env, 2, 'bpf_sk_assign');
    const flags = arg64(env, 3);
    if (flags !== 0n) { env.setR0Int(-ERRNO.EINVAL); return; }
    if (!skb_at_tc_ingress(env)) { env.setR0Int(-ERRNO.EOPNOTSUPP); return; }
    const skb = env.skb;
    if (skb === undefined) throw env.fault('bpf_sk_assign called without an skb');
    env.setR0Int(hostOf(env, 'bpf_sk_assign').sk_assign_skb(skb, sk, flags));
  },
};

/**
 * bpf_sk_assign for SK_LOOKUP (bpf_sk_lookup_assign): (ctx, sk or NULL, flags). The socket checks
 * are the stack's; without a stack only NULL can be passed, and the selection rules apply.
 */
export const skLookupAssign: HelperProto = {
  id: BPF_FUNC.sk_assign,
  name: 'sk_assign',
  args: [ARG.ARG_PTR_TO_CTX, ARG.ARG_PTR_TO_SOCKET_OR_NULL, ARG.ARG_ANYTHING],
  ret: RET.RET_INTEGER,
  impl(env) {
    const ctx = env.skLookup;
    if (ctx === undefined) throw env.fault('bpf_sk_assign called without an sk_lookup context');
    const R = env.R;
    const sk = R[4] === 0 && R[5] === 0 ? null : sockArg(env, 2, 'bpf_sk_assign');
    const flags = arg64(env, 3);
    if ((flags & ~(BPF_SK_LOOKUP_F_REPLACE | BPF_SK_LOOKUP_F_NO_REUSEPORT)) !== 0n) { env.setR0Int(-ERRNO.EINVAL); return; }
    const host = env.netHost;
    if (host !== undefined) { env.setR0Int(host.sk_assign_lookup(ctx, sk, flags)); return; }
    if (ctx.selected_sk !== null && (flags & BPF_SK_LOOKUP_F_REPLACE) === 0n) { env.setR0Int(-ERRNO.EEXIST); return; }
    ctx.selected_sk = null;
    ctx.no_reuseport = (flags & BPF_SK_LOOKUP_F_NO_REUSEPORT) !== 0n;
    env.setR0Int(0);
  },
};

// Scratch for a host answer bpf-vm only inspects (a BTF pointer's socket's struct bpf_sock): one
// buffer, reused by every call.
const SCRATCH = new Uint8Array(SOCK_SLOT.SIZE);
const SCRATCH_DV = new DataView(SCRATCH.buffer);

/**
 * Whether sk is a TCP listener (the syncookie helpers' first check): a slot's struct bpf_sock says
 * so; for a BTF pointer (ARG_PTR_TO_BTF_ID_SOCK_COMMON takes one) the host writes it afresh.
 */
function isTcpListener(env: ExecEnv, n: number): boolean {
  const hi = env.R[2 * n + 1]!;
  let dv: DataView, at = SOCK_SLOT.SOCK;
  if (env.socks.views.owns(hi)) {
    const sk = env.socks.get(hi), host = env.netHost;
    if (sk === undefined || host === undefined) return false;
    SCRATCH.fill(0);
    host.fill_bpf_sock(sk, SCRATCH_DV, 0);
    dv = SCRATCH_DV;
    at = 0;
  } else {
    const r = env.regions[hi & 0xffff];
    if (r === undefined) return false;
    dv = r.dv;
  }
  return dv.getUint32(at + BPF_SOCK.protocol, true) === IPPROTO_TCP && dv.getUint32(at + BPF_SOCK.state, true) === BPF_TCP_LISTEN;
}

/** (sk, iph, iph_len, th, th_len). */
const SYNCOOKIE_ARGS = [ARG.ARG_PTR_TO_BTF_ID_SOCK_COMMON, ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE, ARG.ARG_PTR_TO_MEM, ARG.ARG_CONST_SIZE] as const;

/** The headers the syncookie helpers read, as views of the program's memory (valid for the call). */
function headers(env: ExecEnv, helper: string): [Uint8Array, Uint8Array] {
  const R = env.R;
  const ipLen = R[6]! >>> 0, thLen = R[10]! >>> 0;
  const ip = env.resolveMem(R[4]!, R[5]!, ipLen, false, `${helper} iph`);
  const iph = ip.u8.subarray(env.addr, env.addr + ipLen);
  const t = env.resolveMem(R[8]!, R[9]!, thLen, false, `${helper} th`);
  return [iph, t.u8.subarray(env.addr, env.addr + thLen)];
}

/**
 * bpf_tcp_check_syncookie: 0 when the ACK carries a valid cookie of listener sk. Here the header
 * length and the socket's kind; the stack checks the sysctl, the flags, the IP header and version.
 */
export const tcpCheckSyncookie: HelperProto = {
  id: BPF_FUNC.tcp_check_syncookie,
  name: 'tcp_check_syncookie',
  args: SYNCOOKIE_ARGS,
  ret: RET.RET_INTEGER,
  impl(env) {
    const sk = sockArg(env, 1, 'bpf_tcp_check_syncookie');
    const [iph, th] = headers(env, 'bpf_tcp_check_syncookie');
    if (th.length < TCPHDR_SIZE || !isTcpListener(env, 1)) { env.setR0Int(-ERRNO.EINVAL); return; }
    env.setR0Int(hostOf(env, 'bpf_tcp_check_syncookie').tcp_check_syncookie(sk, iph, th));
  },
};

/** bpf_tcp_gen_syncookie: (mss << 32) | cookie for a SYN to listener sk, or a negative errno. */
export const tcpGenSyncookie: HelperProto = {
  id: BPF_FUNC.tcp_gen_syncookie,
  name: 'tcp_gen_syncookie',
  args: SYNCOOKIE_ARGS,
  ret: RET.RET_INTEGER,
  impl(env) {
    const sk = sockArg(env, 1, 'bpf_tcp_gen_syncookie');
    const [iph, th] = headers(env, 'bpf_tcp_gen_syncookie');
    // th_len must be the header's own length (doff words).
    if (th.length < TCPHDR_SIZE || th.length !== (th[12]! >>> 4) * 4 || !isTcpListener(env, 1)) { env.setR0Int(-ERRNO.EINVAL); return; }
    setR0U64(env, hostOf(env, 'bpf_tcp_gen_syncookie').tcp_gen_syncookie(sk, iph, th));
  },
};

/** Every socket helper by id (the tc form of bpf_sk_assign; SK_LOOKUP gets skLookupAssign). */
export const SK_HELPERS: readonly HelperProto[] = [
  skLookupTcp, skLookupUdp, skRelease, skcLookupTcp, skFullsock, tcpSock, getListenerSock, getSocketCookie, skAssign,
  tcpCheckSyncookie, tcpGenSyncookie, ...SKC_CASTS,
];
/**
 * bpf_base_func_proto's socket helpers (CAP_PERFMON): the bpf_skc_to_* casts, which every program
 * type gets.
 */
export const BASE_SK_HELPERS: readonly HelperProto[] = SKC_CASTS;
/** xdp_func_proto's socket helpers. */
export const XDP_SK_HELPERS: readonly HelperProto[] = [
  skLookupTcp, skLookupUdp, skRelease, skcLookupTcp, tcpCheckSyncookie, tcpGenSyncookie,
];
/** tc_cls_act_func_proto's socket helpers. */
export const TC_SK_HELPERS: readonly HelperProto[] = [
  skLookupTcp, skLookupUdp, skRelease, skcLookupTcp, skFullsock, tcpSock, getListenerSock, getSocketCookie, skAssign,
  tcpCheckSyncookie, tcpGenSyncookie,
];
/** sk_filter_func_proto's socket helpers. */
export const SOCKET_FILTER_SK_HELPERS: readonly HelperProto[] = [getSocketCookie];
/** sk_lookup_func_proto's socket helpers. */
export const SK_LOOKUP_SK_HELPERS: readonly HelperProto[] = [skLookupAssign, skRelease];
