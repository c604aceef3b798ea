// BPF_PROG_TEST_RUN for SK_LOOKUP (the kernel's bpf_prog_test_run_sk_lookup): the lookup comes from
// ctx_in (struct bpf_sk_lookup), the program runs as a one-program run array (a selection counts
// only with SK_PASS), and ctx_out is ctx_in with `cookie` the selected socket's cookie (0 if none).
// The kernel's checks and errnos, in its order: no data_in/out, no cpu; ctx_in required, longer
// than the struct only with zero bytes beyond it (E2BIG), sk/cookie 0 and nothing set after
// local_port (ingress_ifindex included: EINVAL), local_port a port (ERANGE), family AF_INET or
// AF_INET6 (EAFNOSUPPORT); a selected reuseport socket without BPF_SK_LOOKUP_F_NO_REUSEPORT is
// EOPNOTSUPP, where the host says which sockets are in a reuseport group (an optional
// `sk_reuseport(sk)`; without it no socket is).
import { BpfError } from '../errors.ts';
import { BPF_SK_LOOKUP as L, BPF_SK_LOOKUP_SIZE } from './bpf-sock.ts';
import type { Program } from './program.ts';
import { SkLookupProgramRunner, type SkLookupRunnerOptions } from './sk-lookup-runner.ts';
import type { BpfSkLookupKern, BpfSockRef } from './sock-host.ts';
import { BPF_PROG_TYPE } from './types.ts';

const AF_INET = 2;
const AF_INET6 = 10;
const SK_DROP = 0;
const SK_PASS = 1;

export interface SkLookupTestRunOptions extends SkLookupRunnerOptions {
  /** ctx_in: struct bpf_sk_lookup (72 bytes; sk/cookie must be 0). Required, as the kernel's. */
  ctxIn: Uint8Array;
  repeat?: number;
  /** data_in: SK_LOOKUP takes none (EINVAL), as the kernel. */
  dataIn?: Uint8Array;
}

export interface SkLookupTestRunResult {
  retval: number;
  /** ctx_out: struct bpf_sk_lookup with cookie = the selected socket's cookie (0 if none). */
  ctxOut: Uint8Array;
  durationNs: number;
  repeat: number;
}

/** A host that can tell sk->sk_reuseport (optional, beside BpfNetHost). */
interface ReuseportHost {
  sk_reuseport?: (sk: BpfSockRef) => boolean;
}

const einval = (msg: string): BpfError => new BpfError('EINVAL', msg);

/** bpf_ctx_init: ctx_in zero-extended to the struct; bytes past it must be zero (bpf_check_uarg_tail_zero). */
function ctxInit(ctxIn: Uint8Array | undefined): Uint8Array {
  if (ctxIn === undefined) throw einval('sk_lookup test run: ctx_in is required');
  for (let i = BPF_SK_LOOKUP_SIZE; i < ctxIn.length; i++) {
    if (ctxIn[i] !== 0) throw new BpfError('E2BIG', `ctx_in: ${ctxIn.length} bytes, non-zero byte at ${i} past struct bpf_sk_lookup (${BPF_SK_LOOKUP_SIZE})`);
  }
  const ctx = new Uint8Array(BPF_SK_LOOKUP_SIZE);
  ctx.set(ctxIn.subarray(0, BPF_SK_LOOKUP_SIZE));
  return ctx;
}

const word = (w: number, a: Uint8Array, off: number): number => new DataView(a.buffer, a.byteOffset).getUint32(off + 4 * w, false);

/** The lookup ctx_in describes (ctx is the zero-extended struct). */
function lookupFrom(ctx: Uint8Array): BpfSkLookupKern {
  const dv = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  if (dv.getBigUint64(L.sk, true) !== 0n) throw einval('ctx_in: sk/cookie must be 0');
  for (let i = L.local_port + 4; i < BPF_SK_LOOKUP_SIZE; i++) {
    if (ctx[i] !== 0) throw einval(`ctx_in: byte ${i} after local_port must be 0 (ingress_ifindex is not an input)`);
  }
  const localPort = dv.getUint32(L.local_port, true);
  if (localPort > 0xffff) throw new BpfError('ERANGE', `ctx_in: local_port ${localPort} is not a port`);
  const family = dv.getUint32(L.family, true) & 0xffff;
  if (family !== AF_INET && family !== AF_INET6) throw new BpfError('EAFNOSUPPORT', `ctx_in: family ${family} is neither AF_INET nor AF_INET6`);
  const v6 = (off: number) => ({ w0: word(0, ctx, off), w1: word(1, ctx, off), w2: word(2, ctx, off), w3: word(3, ctx, off) });
  const zero6 = { w0: 0, w1: 0, w2: 0, w3: 0 };
  return {
    family,
    protocol: dv.getUint32(L.protocol, true) & 0xffff,
    v4_saddr: family === AF_INET ? dv.getUint32(L.remote_ip4, false) : 0,
    v4_daddr: family === AF_INET ? dv.getUint32(L.local_ip4, false) : 0,
    v6_saddr: family === AF_INET6 ? v6(L.remote_ip6) : zero6,
    v6_daddr: family === AF_INET6 ? v6(L.local_ip6) : zero6,
    sport: dv.getUint16(L.remote_port, false),
    dport: localPort,
    ingress_ifindex: 0,
    selected_sk: null,
    no_reuseport: false,
  };
}

export function bpfProgTestRunSkLookup(prog: Program, opts: SkLookupTestRunOptions): SkLookupTestRunResult {
  if (prog.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP) throw einval(`${prog.name}: not an SK_LOOKUP program`);
  if ((opts.cpu ?? 0) !== 0) throw einval('sk_lookup test run: cpu must be 0');
  if (opts.dataIn !== undefined) throw einval('sk_lookup test run: takes no data_in');
  const repeat = Math.max(1, Math.floor(opts.repeat ?? 1));
  const ctxOut = ctxInit(opts.ctxIn);
  const ctx = lookupFrom(ctxOut);
  const runner = new SkLookupProgramRunner(prog, opts);
  let retval = SK_DROP;
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) {
    // BPF_PROG_SK_LOOKUP_RUN_ARRAY with one program: its pick counts only if it passes; only
    // SK_DROP drops (an unverified program's other values pass).
    ctx.selected_sk = null;
    ctx.no_reuseport = false;
    const r = runner.run(ctx);
    if (r !== SK_PASS) { ctx.selected_sk = null; ctx.no_reuseport = false; }
    retval = r === SK_DROP ? SK_DROP : SK_PASS;
  }
  const t1 = performance.now();
  const host = opts.netHost;
  const sk = ctx.selected_sk;
  if (sk !== null && !ctx.no_reuseport && (host as ReuseportHost | undefined)?.sk_reuseport?.(sk) === true) {
    throw new BpfError('EOPNOTSUPP', 'sk_lookup test run: the selected socket is in a reuseport group and BPF_SK_LOOKUP_F_NO_REUSEPORT was not given');
  }
  const cookie = sk !== null && host !== undefined ? host.sk_cookie(sk) : 0n;
  new DataView(ctxOut.buffer).setBigUint64(L.cookie, cookie, true);
  return { retval, ctxOut, durationNs: Math.round(((t1 - t0) * 1e6) / repeat), repeat };
}
