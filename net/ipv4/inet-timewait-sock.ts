// TIME_WAIT mini sockets (net/ipv4/inet_timewait_sock.c). When a connection closes first on this
// side, a small InetTimewaitSock takes the full socket's place in ehash (so late segments of the
// old connection still find it) and in its bind bucket (so the port stays taken, subject to the
// SO_REUSEADDR / SO_REUSEPORT rules), until its timer kills it, TCP_TIMEWAIT_LEN (60 s) later.
import { HZ, TimerList } from '../core/clock.ts';
import type { Sock } from '../core/sock.ts';
import { SockCommon } from '../core/sock-common.ts';
import { TCP_TIME_WAIT, type TcpState } from '../core/tcp-states.ts';
import { chain_del, type InetHashinfo } from './inet-hashinfo.ts';
import { inet_bind_bucket_destroy, type InetBindBucket } from './inet-bind-bucket.ts';
import { inet_ehash_del } from './inet-hash.ts';
import type { NetnsIpv4 } from '../core/net-namespace.ts';

/** TCP_TIMEWAIT_LEN: how long a TIME_WAIT socket lives, in jiffies. */
export const TCP_TIMEWAIT_LEN = 60 * HZ;

export class InetTimewaitSock extends SockCommon {
  /** The TCP state it stands for: TCP_TIME_WAIT, or TCP_FIN_WAIT2 for an orphaned closer. */
  tw_substate: TcpState;
  /** The bind bucket it holds the port in. */
  tw_tb: InetBindBucket | null = null;
  /** The tables it is in, for its timer to take it out. */
  tw_hashinfo: InetHashinfo | null = null;
  readonly tw_timer: TimerList;
  /** Scheduled with a short timeout (4 s or less): its expiry counts as TWKilled rather than TW. */
  tw_kill = false;

  // --- struct tcp_timewait_sock: what TCP needs to answer the old connection's segments ---
  tw_rcv_nxt = 0;
  tw_snd_nxt = 0;
  /** The window we last offered, already scaled down, and our scale. */
  tw_rcv_wnd = 0;
  tw_rcv_wscale = 0;
  /** Timestamps: the peer's last TSval, when it was set (seconds), our offset. */
  tw_ts_recent = 0;
  tw_ts_recent_stamp = 0;
  tw_ts_offset = 0;
  tw_tstamp_ok = false;
  /** The connection's TSvals counted microseconds (tcp_usec_ts): so do the TIME_WAIT ACKs'. */
  tw_usec_ts = false;
  /** The last time an out-of-window ACK was sent (tw_last_oow_ack_time, jiffies). */
  tw_last_oow_ack_time = 0;
  /** It holds a reference on its death row (tw_refcount) from scheduling until it is killed. */
  tw_counted = false;

  constructor(sk: Sock, state: TcpState) {
    super(sk.skc_net, sk.skc_family, TCP_TIME_WAIT);
    this.tw_substate = state;
    this.skc_daddr = sk.skc_daddr;
    this.skc_rcv_saddr = sk.skc_rcv_saddr;
    this.skc_v6_daddr.copy_from(sk.skc_v6_daddr);
    this.skc_v6_rcv_saddr.copy_from(sk.skc_v6_rcv_saddr);
    this.skc_dport = sk.skc_dport;
    this.skc_num = sk.skc_num;
    this.skc_hash = sk.skc_hash;
    this.skc_bound_dev_if = sk.skc_bound_dev_if;
    this.skc_reuse = sk.skc_reuse;
    this.skc_reuseport = sk.skc_reuseport;
    this.skc_ipv6only = sk.skc_ipv6only;
    this.skc_cookie = sk.skc_cookie;
    this.tw_timer = new TimerList(() => tw_timer_handler(this));
  }
}

export function inet_twsk(sk: SockCommon): sk is InetTimewaitSock {
  return sk.skc_state === TCP_TIME_WAIT;
}

/**
 * inet_twsk_alloc: a TIME_WAIT socket standing for `sk` in `state`. With a death row (the netns's
 * net->ipv4, whose tw_refcount and tcp_max_tw_buckets it reads) it is null once that many TIME_WAIT
 * sockets are alive, as the kernel refuses past sysctl_max_tw_buckets; the caller closes without
 * one. Without, there is no limit (TIME_WAIT sockets built by hand).
 */
export function inet_twsk_alloc(sk: Sock, state: TcpState): InetTimewaitSock;
export function inet_twsk_alloc(sk: Sock, state: TcpState, dr: NetnsIpv4): InetTimewaitSock | null;
export function inet_twsk_alloc(sk: Sock, state: TcpState, dr?: NetnsIpv4): InetTimewaitSock | null {
  if (dr !== undefined && dr.tw_refcount - 1 >= dr.sysctl_tcp_max_tw_buckets) return null;
  return new InetTimewaitSock(sk, state);
}

/**
 * inet_twsk_hashdance_schedule: tw joins sk's bind bucket, replaces sk in ehash, and is killed
 * `timeo` jiffies from now. sk keeps its port until TCP destroys it (inet_put_port).
 */
export function inet_twsk_hashdance_schedule(tw: InetTimewaitSock, sk: Sock, h: InetHashinfo, timeo: number): void {
  const tb = sk.icsk_bind_hash;
  if (tb !== null) {
    tw.tw_tb = tb;
    tb.owners.push(tw);
  }
  tw.tw_hashinfo = h;
  const chain = h.ehash[sk.skc_hash & h.ehash_mask];
  const i = sk.skc_hashed && chain !== undefined ? chain.indexOf(sk) : -1;
  if (i >= 0) {
    // Where sk was, so the chain's order is kept.
    chain![i] = tw;
    sk.skc_hashed = false;
  } else {
    (h.ehash[tw.skc_hash & h.ehash_mask] ??= []).unshift(tw);
  }
  tw.skc_hashed = true;
  const clock = sk.skc_net.boot.clock;
  tw.tw_kill = timeo <= 4 * HZ;
  clock.mod_timer(tw.tw_timer, clock.get_jiffies_64() + timeo);
  if (!tw.tw_counted) {
    tw.tw_counted = true;
    tw.skc_net.ipv4.tw_refcount++;
  }
}

/** tw_timer_handler: the TIME_WAIT period is over (TW, or TWKilled when cut short). */
function tw_timer_handler(tw: InetTimewaitSock): void {
  const mib = tw.skc_net.mib.net;
  if (tw.tw_kill) mib.TWKilled++;
  else mib.TW++;
  inet_twsk_kill(tw);
}

/** inet_twsk_reschedule: a new timeout from now (TIME_WAIT restarted by a retransmitted FIN). */
export function inet_twsk_reschedule(tw: InetTimewaitSock, timeo: number): void {
  const clock = tw.skc_net.boot.clock;
  tw.tw_kill = timeo <= 4 * HZ;
  clock.mod_timer(tw.tw_timer, clock.get_jiffies_64() + timeo);
}

/** inet_twsk_kill: out of ehash and the bind bucket. */
export function inet_twsk_kill(tw: InetTimewaitSock): void {
  if (tw.tw_counted) {
    tw.tw_counted = false;
    tw.skc_net.ipv4.tw_refcount--;
  }
  const h = tw.tw_hashinfo;
  if (h !== null) inet_ehash_del(h, tw);
  const tb = tw.tw_tb;
  tw.tw_tb = null;
  if (tb !== null && h !== null) {
    chain_del(tb.owners, tw);
    inet_bind_bucket_destroy(h, tb);
  }
}

/** inet_twsk_deschedule_put: kill it now (a new connection reuses the 4-tuple, or the netns goes). */
export function inet_twsk_deschedule_put(tw: InetTimewaitSock): void {
  tw.skc_net.boot.clock.del_timer(tw.tw_timer);
  inet_twsk_kill(tw);
}
