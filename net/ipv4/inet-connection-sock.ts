// Who may share a TCP port (inet_csk_bind_conflict), which port bind(0) and listen() on an unbound
// socket get (inet_csk_find_open_port), and listen() itself (inet_csk_listen_start).
//
// The sharing rules, for a socket `sk` binding a port that `sk2` holds, when neither is bound to a
// device or both to the same one, and their addresses overlap (inet_rcv_saddr_equal, with wildcards
// matching):
// - SO_REUSEADDR on both, and sk2 not listening: allowed (bind to a port that connections or a
//   TIME_WAIT socket still hold, or that another bound-but-not-listening socket has);
// - otherwise SO_REUSEPORT on both, sk not already in a group, and the same owner uid (a TIME_WAIT
//   sk2 has no uid and passes): allowed;
// - otherwise: EADDRINUSE.
// Addresses overlap when equal, when either is the wildcard of a family the other is in (an
// AF_INET6 socket on :: covers IPv4 unless it is IPV6_V6ONLY), and never between a v6-only socket
// and an IPv4 one.
//
// bind(0) is stricter (relax = false, reuseport_ok = false): any overlapping owner makes the port
// unusable, so an ephemeral port is one no socket shares; SO_REUSEADDR sockets search the lower
// half of the range first, as the kernel's do.
import { ERRNO } from '../../bpf-vm/errno.ts';
import { IPV6_ADDR_TYPES, ipv6_addr_equal, ipv6_addr_type, type ReadonlyIn6Addr } from '../core/in6-addr.ts';
import { inet_get_local_port_range, inet_is_local_reserved_port } from '../core/net-namespace.ts';
import { SK_CAN_REUSE, SK_FORCE_REUSE, AF_INET6 } from '../core/socket-constants.ts';
import { sk_fullsock, type Sock } from '../core/sock.ts';
import { inet6_rcv_saddr, ipv6_only_sock, type SockCommon } from '../core/sock-common.ts';
import { TCP_CLOSE, TCP_LISTEN, TCP_TIME_WAIT } from '../core/tcp-states.ts';
import type { InetHashinfo } from './inet-hashinfo.ts';
import { inet_bind_bucket_create, inet_bind_bucket_find, inet_bind_hash, type InetBindBucket } from './inet-bind-bucket.ts';
import { inet_hash } from './inet-hash.ts';

const { IPV6_ADDR_ANY, IPV6_ADDR_MAPPED } = IPV6_ADDR_TYPES;

/**
 * ipv6_rcv_saddr_equal. With a wildcard match, :: equals every IPv6 address and, unless that
 * socket is v6-only, every IPv4 one; without, addresses must be identical. sk2_rcv_saddr6 is
 * undefined for an AF_INET sk2 (its address counts as v4-mapped).
 */
function ipv6_rcv_saddr_equal(
  sk1_rcv_saddr6: ReadonlyIn6Addr,
  sk2_rcv_saddr6: ReadonlyIn6Addr | undefined,
  sk1_rcv_saddr: number,
  sk2_rcv_saddr: number,
  sk1_ipv6only: boolean,
  sk2_ipv6only: boolean,
  match_sk1_wildcard: boolean,
  match_sk2_wildcard: boolean,
): boolean {
  const addr_type = ipv6_addr_type(sk1_rcv_saddr6);
  const addr_type2 = sk2_rcv_saddr6 !== undefined ? ipv6_addr_type(sk2_rcv_saddr6) : IPV6_ADDR_MAPPED;
  // Both v4-mapped: compare as IPv4.
  if (addr_type === IPV6_ADDR_MAPPED && addr_type2 === IPV6_ADDR_MAPPED) {
    if (!sk2_ipv6only) {
      if (sk1_rcv_saddr === sk2_rcv_saddr) return true;
      return (match_sk1_wildcard && sk1_rcv_saddr === 0) || (match_sk2_wildcard && sk2_rcv_saddr === 0);
    }
    return false;
  }
  if (addr_type === IPV6_ADDR_ANY && addr_type2 === IPV6_ADDR_ANY) return true;
  if (addr_type2 === IPV6_ADDR_ANY && match_sk2_wildcard && !(sk2_ipv6only && addr_type === IPV6_ADDR_MAPPED)) return true;
  if (addr_type === IPV6_ADDR_ANY && match_sk1_wildcard && !(sk1_ipv6only && addr_type2 === IPV6_ADDR_MAPPED)) return true;
  return sk2_rcv_saddr6 !== undefined && ipv6_addr_equal(sk1_rcv_saddr6, sk2_rcv_saddr6);
}

/** ipv4_rcv_saddr_equal: 0.0.0.0 equals every IPv4 address under a wildcard match; a v6-only sk2 never matches. */
function ipv4_rcv_saddr_equal(
  sk1_rcv_saddr: number,
  sk2_rcv_saddr: number,
  sk2_ipv6only: boolean,
  match_sk1_wildcard: boolean,
  match_sk2_wildcard: boolean,
): boolean {
  if (sk2_ipv6only) return false;
  if (sk1_rcv_saddr === sk2_rcv_saddr) return true;
  return (match_sk1_wildcard && sk1_rcv_saddr === 0) || (match_sk2_wildcard && sk2_rcv_saddr === 0);
}

/** inet_rcv_saddr_equal: do the local addresses of sk and sk2 overlap? (UDP uses it too.) */
export function inet_rcv_saddr_equal(sk: SockCommon, sk2: SockCommon, match_wildcard: boolean): boolean {
  if (sk.skc_family === AF_INET6) {
    return ipv6_rcv_saddr_equal(
      sk.skc_v6_rcv_saddr,
      inet6_rcv_saddr(sk2),
      sk.skc_rcv_saddr,
      sk2.skc_rcv_saddr,
      ipv6_only_sock(sk),
      ipv6_only_sock(sk2),
      match_wildcard,
      match_wildcard,
    );
  }
  return ipv4_rcv_saddr_equal(sk.skc_rcv_saddr, sk2.skc_rcv_saddr, ipv6_only_sock(sk2), match_wildcard, match_wildcard);
}

/** The uid a bind conflict compares. Only full sockets get this far: a TIME_WAIT owner is decided by its state. */
function owner_uid(sk2: SockCommon): number {
  return sk_fullsock(sk2) ? sk2.sk_uid : -1;
}

/** inet_bind_conflict: may sk share the port with sk2, addresses aside? false means they may. */
function inet_bind_conflict(sk: Sock, sk2: SockCommon, relax: boolean, reuseport_cb_ok: boolean, reuseport_ok: boolean): boolean {
  if (sk === sk2) return false;
  const dev2 = sk2.skc_bound_dev_if;
  if (sk.skc_bound_dev_if !== 0 && dev2 !== 0 && sk.skc_bound_dev_if !== dev2) return false;
  if (sk.skc_reuse !== 0 && sk2.skc_reuse !== 0 && sk2.skc_state !== TCP_LISTEN) {
    return (
      !relax ||
      (!reuseport_ok &&
        sk.skc_reuseport &&
        sk2.skc_reuseport &&
        reuseport_cb_ok &&
        (sk2.skc_state === TCP_TIME_WAIT || sk.sk_uid === owner_uid(sk2)))
    );
  }
  return (
    !reuseport_ok ||
    !sk.skc_reuseport ||
    !sk2.skc_reuseport ||
    !reuseport_cb_ok ||
    (sk2.skc_state !== TCP_TIME_WAIT && sk.sk_uid !== owner_uid(sk2))
  );
}

/** inet_csk_bind_conflict: does any owner of `tb` keep sk off the port? */
export function inet_csk_bind_conflict(sk: Sock, tb: InetBindBucket, relax: boolean, reuseport_ok: boolean): boolean {
  // A socket already in a reuseport group may not join another through bind (no closed sockets here).
  const reuseport_cb_ok = sk.sk_reuseport_cb === null;
  const owners = tb.owners;
  for (let i = 0; i < owners.length; i++) {
    const sk2 = owners[i]!;
    if (inet_bind_conflict(sk, sk2, relax, reuseport_cb_ok, reuseport_ok) && inet_rcv_saddr_equal(sk, sk2, true)) return true;
  }
  return false;
}

/**
 * inet_csk_find_open_port: a port in net.ipv4.ip_local_port_range that no overlapping socket holds,
 * or 0. The search starts at a random odd offset and steps by two (connect() prefers the other
 * parity), then tries the other parity; an SO_REUSEADDR socket searches the lower half first; with
 * ip_autobind_reuse, a last pass lets it share with SO_REUSEADDR owners.
 */
export function inet_csk_find_open_port(h: InetHashinfo, sk: Sock): number {
  const net = sk.skc_net;
  let relax = false;
  for (;;) {
    let attempt_half = sk.skc_reuse === SK_CAN_REUSE ? 1 : 0;
    for (;;) {
      const range = inet_get_local_port_range(net);
      let low = range[0];
      let high = range[1] + 1; // [32768, 60999] -> [32768, 61000[
      if (high - low < 4) attempt_half = 0;
      if (attempt_half) {
        const half = low + (((high - low) >> 2) << 1);
        if (attempt_half === 1) high = half;
        else low = half;
      }
      let remaining = high - low;
      if (remaining > 1) remaining &= ~1;
      let offset = net.boot.random.get_random_u32_below(remaining) | 1;
      for (;;) {
        let port = low + offset;
        for (let i = 0; i < remaining; i += 2, port += 2) {
          if (port >= high) port -= remaining;
          if (inet_is_local_reserved_port(net, port)) continue;
          const tb = inet_bind_bucket_find(h, net, port);
          if (tb === undefined || !inet_csk_bind_conflict(sk, tb, relax, false)) return port;
        }
        offset--;
        if (offset & 1) break;
      }
      if (attempt_half !== 1) break;
      attempt_half = 2;
    }
    if (!net.ipv4.sysctl_ip_autobind_reuse || relax) return 0;
    relax = true;
  }
}

/**
 * inet_csk_get_port: take port `snum` for sk (or an ephemeral one when 0). 0, or -EADDRINUSE when
 * the port is held by a socket sk may not share with (or no ephemeral port is free). Calling it
 * again on a bound socket re-checks the port against the other owners, as listen() does.
 */
export function inet_csk_get_port(h: InetHashinfo, sk: Sock, snum: number): number {
  const net = sk.skc_net;
  let port = snum;
  let tb: InetBindBucket | undefined;
  if (port === 0) {
    port = inet_csk_find_open_port(h, sk);
    if (port === 0) return -ERRNO.EADDRINUSE;
    tb = inet_bind_bucket_find(h, net, port);
  } else {
    tb = inet_bind_bucket_find(h, net, port);
    if (tb !== undefined && tb.owners.length !== 0 && sk.skc_reuse !== SK_FORCE_REUSE && inet_csk_bind_conflict(sk, tb, true, true)) {
      return -ERRNO.EADDRINUSE;
    }
  }
  tb ??= inet_bind_bucket_create(h, net, port);
  if (sk.icsk_bind_hash === null) inet_bind_hash(sk, tb, port);
  return 0;
}

/**
 * inet_csk_listen_start: the socket listens. The port is checked again now that it is a listener
 * (two SO_REUSEADDR sockets may share a port while bound, but only one may listen on it unless
 * both have SO_REUSEPORT); an unbound socket gets an ephemeral port. Then it goes into lhash2 and,
 * with SO_REUSEPORT, into its group. 0 or -EADDRINUSE.
 */
export function inet_csk_listen_start(h: InetHashinfo, sk: Sock): number {
  sk.skc_state = TCP_LISTEN;
  if (inet_csk_get_port(h, sk, sk.skc_num) === 0) {
    const err = inet_hash(h, sk);
    if (err === 0) return 0;
  }
  sk.skc_state = TCP_CLOSE;
  return -ERRNO.EADDRINUSE;
}
