// connect()'s local port (net/ipv4/inet_hashtables.c's __inet_hash_connect and
// __inet_check_established): an unbound socket gets an ephemeral port such that its 4-tuple is
// unique in ehash. Ports bound by bind() are never shared this way (the kernel's fastreuse >= 0
// buckets); ports other connect()s took are, as long as the 4-tuple differs. A TIME_WAIT socket on
// the same 4-tuple may be taken over per net.ipv4.tcp_tw_reuse (TWRecycled). The search starts at
// a per-destination offset (RFC 6056 algorithm 4 with the kernel's perturbation table) and tries
// even ports first (bind() prefers odd ones).
import { E as ERRNO } from '../core/sock-opts.ts';
import { inet_get_local_port_range, inet_is_local_reserved_port } from '../core/net-namespace.ts';
import { SiphashKey, siphash_3u32 } from '../core/siphash.ts';
import { cpu_to_be16, cpu_to_be32 } from '../core/byteorder.ts';
import type { BootState } from '../core/boot-state.ts';
import { AF_INET6 } from '../core/socket-constants.ts';
import { ipv6_addr_equal, ipv6_addr_v4mapped } from '../core/in6-addr.ts';
import { inet_bind_bucket_create, inet_bind_bucket_find, inet_bind_hash, type InetBindBucket } from './inet-bind-bucket.ts';
import { inet_ehashfn, inet6_ehashfn } from './inet-hashfn.ts';
import { inet_ehash_bucket, type InetHashinfo } from './inet-hashinfo.ts';
import { inet_twsk, inet_twsk_deschedule_put, type InetTimewaitSock } from './inet-timewait-sock.ts';
import type { TcpSock } from './tcp-sock.ts';

/** Buckets that connect() created (the kernel marks them fastreuse = -1); bind() never shares into these freely. */
const connect_buckets = new WeakSet<InetBindBucket>();

const INET_TABLE_PERTURB_SIZE = 1 << 16;
interface PerturbState {
  table: Uint32Array;
  key: SiphashKey;
}
const perturb = new WeakMap<BootState, PerturbState>();
function perturb_state(boot: BootState): PerturbState {
  let s = perturb.get(boot);
  if (s === undefined) {
    const r = (): number => boot.random.get_random_u32();
    const table = new Uint32Array(INET_TABLE_PERTURB_SIZE);
    for (let i = 0; i < table.length; i++) table[i] = r();
    s = { table, key: SiphashKey.from_u32(r(), r(), r(), r()) };
    perturb.set(boot, s);
  }
  return s;
}

/** tcp_twsk_unique: may sk take over this TIME_WAIT 4-tuple? (tcp_tw_reuse 1; 2 only on loopback). */
function tcp_twsk_unique(sk: TcpSock, tw: InetTimewaitSock): boolean {
  const reuse = sk.skc_net.ipv4.sysctl_tcp_tw_reuse;
  if (reuse === 0) return false;
  if (reuse === 2) {
    const loopback = sk.skc_family === AF_INET6 && !ipv6_addr_v4mapped(sk.skc_v6_daddr)
      ? sk.skc_v6_daddr.w0 === 0 && sk.skc_v6_daddr.w1 === 0 && sk.skc_v6_daddr.w2 === 0 && sk.skc_v6_daddr.w3 === 1
      : sk.skc_daddr >>> 24 === 0x7f || sk.skc_rcv_saddr >>> 24 === 0x7f;
    if (!loopback) return false;
  }
  const now_sec = Math.floor(sk.skc_net.boot.clock.ktime_get_ns() / 1e9);
  if (tw.tw_ts_recent_stamp !== 0 && now_sec - tw.tw_ts_recent_stamp > 1) {
    // The new connection starts above everything the old one used, with fresh timestamps.
    let seq = (tw.tw_snd_nxt + 65535 + 2) >>> 0;
    if (seq === 0) seq = 1;
    sk.write_seq = seq;
    sk.rx_opt.ts_recent = tw.tw_ts_recent;
    sk.rx_opt.ts_recent_stamp = tw.tw_ts_recent_stamp;
    return true;
  }
  return false;
}

/**
 * __inet_check_established: sk's 4-tuple with local port lport is free (a TIME_WAIT holder may be
 * recycled): sk goes into ehash. 0 or -EADDRNOTAVAIL.
 */
function __inet_check_established(h: InetHashinfo, sk: TcpSock, lport: number): number {
  const net = sk.skc_net;
  const v6 = sk.skc_family === AF_INET6 && !ipv6_addr_v4mapped(sk.skc_v6_daddr);
  const hash = v6
    ? inet6_ehashfn(net, sk.skc_v6_rcv_saddr, lport, sk.skc_v6_daddr, sk.skc_dport)
    : inet_ehashfn(net, sk.skc_rcv_saddr, lport, sk.skc_daddr, sk.skc_dport);
  const chain = inet_ehash_bucket(h, hash);
  let tw: InetTimewaitSock | null = null;
  for (const sk2 of chain) {
    if (sk2.skc_hash !== hash || sk2.skc_net !== net || sk2.skc_num !== lport || sk2.skc_dport !== sk.skc_dport) continue;
    if (sk2.skc_bound_dev_if !== sk.skc_bound_dev_if) continue;
    const same = v6
      ? ipv6_addr_equal(sk2.skc_v6_daddr, sk.skc_v6_daddr) && ipv6_addr_equal(sk2.skc_v6_rcv_saddr, sk.skc_v6_rcv_saddr)
      : sk2.skc_daddr === sk.skc_daddr && sk2.skc_rcv_saddr === sk.skc_rcv_saddr;
    if (!same) continue;
    if (inet_twsk(sk2) && tcp_twsk_unique(sk, sk2)) {
      tw = sk2;
      continue;
    }
    return -ERRNO.EADDRNOTAVAIL;
  }
  sk.skc_num = lport;
  sk.inet_sport = lport;
  sk.skc_hash = hash;
  if (tw !== null) {
    net.mib.net.TWRecycled++;
    inet_twsk_deschedule_put(tw);
  }
  chain.unshift(sk);
  sk.skc_hashed = true;
  return 0;
}

/** inet_sk_port_offset: secure_ipv4_port_ephemeral over (saddr, daddr, dport). */
function port_offset(sk: TcpSock, key: SiphashKey): number {
  if (sk.skc_family === AF_INET6 && !ipv6_addr_v4mapped(sk.skc_v6_daddr)) {
    const a = sk.skc_v6_rcv_saddr;
    const b = sk.skc_v6_daddr;
    return siphash_3u32(a.w0 ^ a.w1 ^ a.w2 ^ a.w3, b.w0 ^ b.w1 ^ b.w2 ^ b.w3, cpu_to_be16(sk.skc_dport), key) >>> 0;
  }
  return siphash_3u32(cpu_to_be32(sk.skc_rcv_saddr), cpu_to_be32(sk.skc_daddr), cpu_to_be16(sk.skc_dport), key) >>> 0;
}

/** inet_hash_connect: a bound socket checks its 4-tuple; an unbound one searches the ephemeral range. */
export function inet_hash_connect(h: InetHashinfo, sk: TcpSock): number {
  const net = sk.skc_net;
  if (sk.skc_num !== 0) {
    // Bound: its own port. Alone in the bucket it is unique; otherwise ehash decides.
    return __inet_check_established(h, sk, sk.skc_num);
  }
  const st = perturb_state(net.boot);
  const range = inet_get_local_port_range(net);
  const low = range[0];
  const high = range[1] + 1;
  let remaining = high - low;
  if (remaining > 1) remaining &= ~1;
  const off = port_offset(sk, st.key);
  const index = off & (INET_TABLE_PERTURB_SIZE - 1);
  let offset = (st.table[index]! + off) % remaining;
  offset &= ~1;
  for (;;) {
    let port = low + offset;
    for (let i = 0; i < remaining; i += 2, port += 2) {
      if (port >= high) port -= remaining;
      if (inet_is_local_reserved_port(net, port)) continue;
      let tb = inet_bind_bucket_find(h, net, port);
      if (tb !== undefined) {
        if (!connect_buckets.has(tb)) continue;
        if (__inet_check_established(h, sk, port) !== 0) continue;
      } else {
        if (__inet_check_established(h, sk, port) !== 0) continue;
        tb = inet_bind_bucket_create(h, net, port);
        connect_buckets.add(tb);
      }
      inet_bind_hash(sk, tb, port);
      st.table[index] = (st.table[index]! + i + 2) >>> 0;
      return 0;
    }
    offset++;
    if ((offset & 1) !== 0 && remaining > 1) continue;
    return -ERRNO.EADDRNOTAVAIL;
  }
}
