// struct bpf_sk_lookup at run time: the loads sk_lookup_is_valid_access allows, read from the
// lookup being run (env.skLookup, a BpfSkLookupKern) as the kernel's sk_lookup_convert_ctx_access
// rewrites them. Addresses and remote_port are in network order in the struct (so a program's
// little-endian load sees them byte-swapped), local_port in host order; the address fields of the
// other family read 0 (the kernel's v6 pointers are NULL in an IPv4 lookup, its v4 words 0 in an
// IPv6 one). `sk` is the socket selected so far, handed to the program without a reference.
import type { CtxLoad, ExecEnv } from '../interp/env.ts';
import { BPF_SK_LOOKUP as L, BPF_SK_LOOKUP_SIZE, SOCK_SLOT } from './bpf-sock.ts';
import type { BpfSkLookupKern } from './sock-host.ts';

const AF_INET = 2;
const AF_INET6 = 10;

const bswap32 = (v: number): number =>
  (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

type V6 = BpfSkLookupKern['v6_saddr'];
const v6Word = (a: V6, i: number): number => (i === 0 ? a.w0 : i === 1 ? a.w1 : i === 2 ? a.w2 : a.w3);

/** The 32-bit word at `w` (a multiple of 4) as a little-endian load of the uapi struct would read it. */
function word(ctx: BpfSkLookupKern, w: number): number {
  switch (w) {
    case L.family: return ctx.family >>> 0;
    case L.protocol: return ctx.protocol >>> 0;
    case L.remote_ip4: return ctx.family === AF_INET ? bswap32(ctx.v4_saddr) : 0;
    case L.remote_port: return ((ctx.sport & 0xff) << 8) | ((ctx.sport >>> 8) & 0xff);
    case L.local_ip4: return ctx.family === AF_INET ? bswap32(ctx.v4_daddr) : 0;
    case L.local_port: return ctx.dport >>> 0;
    case L.ingress_ifindex: return ctx.ingress_ifindex >>> 0;
    default:
      if (ctx.family !== AF_INET6) return 0;
      if (w >= L.remote_ip6 && w < L.remote_ip6 + 16) return bswap32(v6Word(ctx.v6_saddr, (w - L.remote_ip6) >> 2));
      if (w >= L.local_ip6 && w < L.local_ip6 + 16) return bswap32(v6Word(ctx.v6_daddr, (w - L.local_ip6) >> 2));
      return 0;
  }
}

/** ctx->sk: the selected socket (no reference), or NULL. */
function loadSk(env: ExecEnv, ctx: BpfSkLookupKern, d: number): void {
  const sk = ctx.selected_sk, host = env.netHost;
  const R = env.R;
  if (sk === null || host === undefined) { R[d] = 0; R[d + 1] = 0; return; }
  R[d] = SOCK_SLOT.SOCK;
  R[d + 1] = env.socks.view(host, sk, env.pc);
}

export const skLookupCtxLoad: CtxLoad = (env, off, size, d) => {
  const ctx = env.skLookup;
  if (ctx === undefined || off < 0 || off + size > BPF_SK_LOOKUP_SIZE || off % size !== 0) return false;
  const R = env.R;
  if (off < L.family || size === 8) {
    if (off !== L.sk || size !== 8) return false;
    loadSk(env, ctx, d);
    return true;
  }
  if (off >= L.ingress_ifindex + 4) return false;
  const w = word(ctx, off & ~3);
  // family, protocol and local_port are 16-bit fields behind the uapi's 32-bit ones: the kernel's
  // rewrite of a 2-byte load of their upper half loads the field itself, unshifted.
  if (size === 2 && (off === L.family + 2 || off === L.protocol + 2 || off === L.local_port + 2)) {
    R[d] = w & 0xffff;
    R[d + 1] = 0;
    return true;
  }
  const v = w >>> (8 * (off & 3));
  R[d] = size === 4 ? v | 0 : v & (size === 2 ? 0xffff : 0xff);
  R[d + 1] = 0;
  return true;
};
