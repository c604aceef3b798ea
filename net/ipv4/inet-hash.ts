// Putting TCP sockets into the tables and taking them out (inet_hash, inet_unhash,
// inet_ehash_insert). A listener goes into lhash2, at the head of its chain, except that an IPv6
// SO_REUSEPORT listener goes at the tail (as __inet_hash does); with SO_REUSEPORT it also joins the
// group of a listener it may share with (same family, v6only, device, bind bucket, owner, and
// address). Everything else goes into ehash, at the head of its chain, under sk_ehashfn.
import { NetError } from '../core/errors.ts';
import { ipv6_addr_v4mapped } from '../core/in6-addr.ts';
import { AF_INET6 } from '../core/socket-constants.ts';
import type { Sock } from '../core/sock.ts';
import { inet_rcv_saddr_any, ipv6_only_sock, type SockCommon } from '../core/sock-common.ts';
import { reuseport_add_sock, reuseport_alloc, reuseport_stop_listen_sock } from '../core/sock-reuseport.ts';
import { TCP_CLOSE, TCP_LISTEN } from '../core/tcp-states.ts';
import { inet_rcv_saddr_equal } from './inet-connection-sock.ts';
import { inet6_ehashfn, inet_ehashfn, ipv4_portaddr_hash, ipv6_portaddr_hash } from './inet-hashfn.ts';
import { chain_del, inet_ehash_bucket, inet_lhash2_bucket, type InetHashinfo } from './inet-hashinfo.ts';

/** sk_ehashfn: the ehash value of a connection-bound socket (full, TIME_WAIT or request). */
export function sk_ehashfn(sk: SockCommon): number {
  if (sk.skc_family === AF_INET6 && !ipv6_addr_v4mapped(sk.skc_v6_daddr)) {
    return inet6_ehashfn(sk.skc_net, sk.skc_v6_rcv_saddr, sk.skc_num, sk.skc_v6_daddr, sk.skc_dport);
  }
  return inet_ehashfn(sk.skc_net, sk.skc_rcv_saddr, sk.skc_num, sk.skc_daddr, sk.skc_dport);
}

/** The lhash2 value of a listener: its (address, port). */
export function inet_lhash2_hash_sk(sk: SockCommon): number {
  if (sk.skc_family === AF_INET6) return ipv6_portaddr_hash(sk.skc_net, sk.skc_v6_rcv_saddr, sk.skc_num);
  return ipv4_portaddr_hash(sk.skc_net, sk.skc_rcv_saddr, sk.skc_num);
}

/** An ehash entry with the same 4-tuple, netns and device as sk (inet_ehash_lookup_by_sk). */
function inet_ehash_lookup_by_sk(sk: SockCommon, chain: SockCommon[]): boolean {
  for (let i = 0; i < chain.length; i++) {
    const esk = chain[i]!;
    if (esk.skc_hash !== sk.skc_hash || esk.skc_net !== sk.skc_net) continue;
    if (esk.skc_num !== sk.skc_num || esk.skc_dport !== sk.skc_dport || esk.skc_bound_dev_if !== sk.skc_bound_dev_if) continue;
    if (sk.skc_family === AF_INET6) {
      if (esk.skc_family !== AF_INET6) continue;
      const a = esk.skc_v6_daddr;
      const b = sk.skc_v6_daddr;
      const c = esk.skc_v6_rcv_saddr;
      const d = sk.skc_v6_rcv_saddr;
      if (a.w0 === b.w0 && a.w1 === b.w1 && a.w2 === b.w2 && a.w3 === b.w3 && c.w0 === d.w0 && c.w1 === d.w1 && c.w2 === d.w2 && c.w3 === d.w3) {
        return true;
      }
    } else if (esk.skc_daddr === sk.skc_daddr && esk.skc_rcv_saddr === sk.skc_rcv_saddr) {
      return true;
    }
  }
  return false;
}

/**
 * inet_ehash_insert: sk goes into ehash, replacing `osk` (a request or TIME_WAIT socket it takes
 * over) when given. With check_dup, an entry for the same connection keeps sk out: false.
 */
export function inet_ehash_insert(h: InetHashinfo, sk: SockCommon, osk: SockCommon | null, check_dup = false): boolean {
  if (sk.skc_hashed) throw new NetError('EINVAL', 'inet_ehash_insert: the socket is already hashed');
  sk.skc_hash = sk_ehashfn(sk);
  const chain = inet_ehash_bucket(h, sk.skc_hash);
  if (osk !== null) {
    if (!chain_del(chain, osk)) return false;
    osk.skc_hashed = false;
  } else if (check_dup && inet_ehash_lookup_by_sk(sk, chain)) {
    return false;
  }
  chain.unshift(sk);
  sk.skc_hashed = true;
  return true;
}

/** inet_ehash_nolisten: as inet_ehash_insert; a socket that could not go in is closed. */
export function inet_ehash_nolisten(h: InetHashinfo, sk: SockCommon, osk: SockCommon | null, check_dup = false): boolean {
  const ok = inet_ehash_insert(h, sk, osk, check_dup);
  if (!ok) sk.skc_state = TCP_CLOSE;
  return ok;
}

/** Takes a socket out of ehash (the sk_nulls_del_node_init_rcu of reqsk_queue_unlink, inet_twsk_kill). */
export function inet_ehash_del(h: InetHashinfo, sk: SockCommon): boolean {
  if (!sk.skc_hashed) return false;
  const slot = sk.skc_hash & h.ehash_mask;
  const chain = h.ehash[slot];
  if (!chain_del(chain, sk)) return false;
  if (chain !== undefined && chain.length === 0) h.ehash[slot] = undefined;
  sk.skc_hashed = false;
  return true;
}

/** inet_reuseport_add_sock: join the group of a compatible listener in the same chain, or start one. */
function inet_reuseport_add_sock(sk: Sock, chain: Sock[]): number {
  const tb = sk.icsk_bind_hash;
  for (let i = 0; i < chain.length; i++) {
    const sk2 = chain[i]!;
    if (
      sk2 !== sk &&
      sk2.skc_family === sk.skc_family &&
      ipv6_only_sock(sk2) === ipv6_only_sock(sk) &&
      sk2.skc_bound_dev_if === sk.skc_bound_dev_if &&
      sk2.icsk_bind_hash === tb &&
      sk2.skc_reuseport &&
      sk2.sk_uid === sk.sk_uid &&
      inet_rcv_saddr_equal(sk, sk2, false)
    ) {
      return reuseport_add_sock(sk, sk2, inet_rcv_saddr_any(sk));
    }
  }
  return reuseport_alloc(sk, inet_rcv_saddr_any(sk));
}

/** __inet_hash: a listener into lhash2, anything else into ehash. 0 or a negative errno from the reuseport group. */
export function __inet_hash(h: InetHashinfo, sk: Sock, osk: SockCommon | null): number {
  if (sk.skc_state !== TCP_LISTEN) {
    inet_ehash_nolisten(h, sk, osk);
    return 0;
  }
  if (sk.skc_hashed) throw new NetError('EINVAL', '__inet_hash: the listener is already hashed');
  const chain = inet_lhash2_bucket(h, inet_lhash2_hash_sk(sk));
  if (sk.skc_reuseport) {
    const err = inet_reuseport_add_sock(sk, chain);
    if (err) return err;
  }
  if (sk.skc_reuseport && sk.skc_family === AF_INET6) chain.push(sk);
  else chain.unshift(sk);
  sk.skc_hashed = true;
  return 0;
}

/** inet_hash: hashes any socket that is not closed. */
export function inet_hash(h: InetHashinfo, sk: Sock): number {
  return sk.skc_state !== TCP_CLOSE ? __inet_hash(h, sk, null) : 0;
}

/** inet_unhash: out of lhash2 (and its reuseport group) or ehash. */
export function inet_unhash(h: InetHashinfo, sk: Sock): void {
  if (!sk.skc_hashed) return;
  if (sk.skc_state === TCP_LISTEN) {
    const slot = inet_lhash2_hash_sk(sk) & h.lhash2_mask;
    if (sk.sk_reuseport_cb !== null) reuseport_stop_listen_sock(sk);
    const chain = h.lhash2[slot];
    chain_del(chain, sk);
    if (chain !== undefined && chain.length === 0) h.lhash2[slot] = undefined;
    sk.skc_hashed = false;
  } else {
    inet_ehash_del(h, sk);
  }
}
