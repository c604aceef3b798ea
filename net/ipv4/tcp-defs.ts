// The constants of include/net/tcp.h, include/net/inet_connection_sock.h and include/uapi/linux/tcp.h
// that TCP's files share, and the TCP header's field accessors (struct tcphdr over a DataView).
import { HZ } from '../core/clock.ts';
import type { SkBuff } from '../core/skbuff.ts';

/** TCP header flags as TCP_SKB_CB(skb)->tcp_flags holds them (TCPHDR_*): byte 13 of the header. */
export const TCPHDR = {
  TCPHDR_FIN: 0x01,
  TCPHDR_SYN: 0x02,
  TCPHDR_RST: 0x04,
  TCPHDR_PSH: 0x08,
  TCPHDR_ACK: 0x10,
  TCPHDR_URG: 0x20,
  TCPHDR_ECE: 0x40,
  TCPHDR_CWR: 0x80,
} as const;
export const { TCPHDR_FIN, TCPHDR_SYN, TCPHDR_RST, TCPHDR_PSH, TCPHDR_ACK, TCPHDR_URG } = TCPHDR;

/** TCP option kinds (TCPOPT_*) and lengths (TCPOLEN_*). */
export const TCPOPT = {
  TCPOPT_NOP: 1,
  TCPOPT_EOL: 0,
  TCPOPT_MSS: 2,
  TCPOPT_WINDOW: 3,
  TCPOPT_SACK_PERM: 4,
  TCPOPT_SACK: 5,
  TCPOPT_TIMESTAMP: 8,
  TCPOPT_MD5SIG: 19,
  TCPOPT_FASTOPEN: 34,
  TCPOPT_EXP: 254,
} as const;
export const TCPOLEN = {
  TCPOLEN_MSS: 4,
  TCPOLEN_WINDOW: 3,
  TCPOLEN_SACK_PERM: 2,
  TCPOLEN_TIMESTAMP: 10,
  TCPOLEN_TSTAMP_ALIGNED: 12,
  TCPOLEN_WSCALE_ALIGNED: 4,
  TCPOLEN_SACKPERM_ALIGNED: 4,
  TCPOLEN_SACK_BASE: 2,
  TCPOLEN_SACK_BASE_ALIGNED: 4,
  TCPOLEN_SACK_PERBLOCK: 8,
} as const;

/** Times, in jiffies (HZ = 1000, so ms). */
export const TCP_TIMES = {
  /** RFC 6298 2.1 initial RTO: 1 s. */
  TCP_TIMEOUT_INIT: 1 * HZ,
  TCP_TIMEOUT_MIN: 2,
  TCP_RTO_MIN: HZ / 5,
  TCP_RTO_MAX: 120 * HZ,
  TCP_DELACK_MAX: HZ / 5,
  TCP_DELACK_MIN: HZ / 25,
  TCP_ATO_MIN: HZ / 25,
  TCP_FIN_TIMEOUT: 60 * HZ,
  TCP_KEEPALIVE_TIME: 120 * 60 * HZ,
  TCP_KEEPALIVE_INTVL: 75 * HZ,
  TCP_RESOURCE_PROBE_INTERVAL: HZ / 2,
  /** Validity of a SYN cookie counter step (TCP_SYNCOOKIE_VALID: 2 minutes). */
  TCP_SYNCOOKIE_VALID: 2 * 60 * HZ,
  /**
   * TCP_PAWS_WRAP, TCP_PAWS_MSL (seconds), TCP_PAWS_WINDOW (ticks of TSval). TCP_PAWS_WRAP
   * (INT_MAX / USEC_PER_SEC, Linux 6.7) replaced TCP_PAWS_24DAYS for every flow: a peer may
   * count microseconds (tcp_usec_ts), whose TSvals wrap after 2^31 us, not 24 days.
   */
  TCP_PAWS_WRAP: Math.floor(0x7fffffff / 1e6),
  TCP_PAWS_MSL: 60,
  TCP_PAWS_WINDOW: 1,
} as const;
export const {
  TCP_TIMEOUT_INIT,
  TCP_RTO_MIN,
  TCP_RTO_MAX,
  TCP_DELACK_MAX,
  TCP_DELACK_MIN,
  TCP_ATO_MIN,
  TCP_RESOURCE_PROBE_INTERVAL,
} = TCP_TIMES;

/** Sizes. */
export const TCP_SIZES = {
  /** RFC 879's default MSS (TCP_MSS_DEFAULT) and the smallest MSS we accept (TCP_MIN_MSS). */
  TCP_MSS_DEFAULT: 536,
  TCP_MIN_MSS: 88,
  TCP_MIN_RCVMSS: 536,
  TCP_BASE_MSS: 1024,
  TCP_INIT_CWND: 10,
  TCP_MAX_QUICKACKS: 16,
  TCP_MAX_WSCALE: 14,
  /** The largest unscaled window (U16_MAX) and the largest scaled one. */
  MAX_TCP_WINDOW: 32767,
  TCP_MAX_REORDERING: 300,
  /** MAX_TCP_OPTION_SPACE and the TCP header without options. */
  MAX_TCP_OPTION_SPACE: 40,
  TCP_HDR_LEN: 20,
  /** TCP_NUM_SACKS: SACK blocks kept for our ACKs. */
  TCP_NUM_SACKS: 4,
} as const;
export const { TCP_MSS_DEFAULT, TCP_MIN_MSS, TCP_INIT_CWND, TCP_MAX_QUICKACKS, TCP_MAX_WSCALE, TCP_HDR_LEN } = TCP_SIZES;

/** icsk_pending: which event the retransmit timer serves (ICSK_TIME_*). */
export const ICSK_TIME = {
  ICSK_TIME_RETRANS: 1,
  ICSK_TIME_DACK: 2,
  ICSK_TIME_PROBE0: 3,
  ICSK_TIME_LOSS_PROBE: 5,
  ICSK_TIME_REO_TIMEOUT: 6,
} as const;

/** icsk_ack.pending bits (ICSK_ACK_*). */
export const ICSK_ACK = {
  ICSK_ACK_SCHED: 1,
  ICSK_ACK_TIMER: 2,
  ICSK_ACK_PUSHED: 4,
  ICSK_ACK_PUSHED2: 8,
  ICSK_ACK_NOW: 16,
  ICSK_ACK_NOMEM: 32,
} as const;

/** tp->nonagle bits. */
export const TCP_NAGLE = { TCP_NAGLE_OFF: 1, TCP_NAGLE_CORK: 2, TCP_NAGLE_PUSH: 4 } as const;

/** TCP_SKB_CB(skb)->sacked bits (TCPCB_*). */
export const TCPCB = {
  TCPCB_SACKED_ACKED: 0x01,
  TCPCB_SACKED_RETRANS: 0x02,
  TCPCB_LOST: 0x04,
  TCPCB_TAGBITS: 0x07,
  TCPCB_REPAIRED: 0x10,
  TCPCB_EVER_RETRANS: 0x80,
} as const;

/** tcp_ack's flag bits (FLAG_*). */
export const FLAG = {
  FLAG_DATA: 0x01,
  FLAG_WIN_UPDATE: 0x02,
  FLAG_DATA_ACKED: 0x04,
  FLAG_RETRANS_DATA_ACKED: 0x08,
  FLAG_SYN_ACKED: 0x10,
  FLAG_DATA_SACKED: 0x20,
  FLAG_ECE: 0x40,
  FLAG_LOST_RETRANS: 0x80,
  FLAG_SLOWPATH: 0x100,
  FLAG_ORIG_SACK_ACKED: 0x200,
  FLAG_SND_UNA_ADVANCED: 0x400,
  FLAG_DSACKING_ACK: 0x800,
  FLAG_SET_XMIT_TIMER: 0x1000,
  FLAG_SACK_RENEGING: 0x2000,
  FLAG_UPDATE_TS_RECENT: 0x4000,
  FLAG_NO_CHALLENGE_ACK: 0x8000,
  FLAG_ACK_MAYBE_DELAYED: 0x10000,
  FLAG_DSACK_TLP: 0x20000,
} as const;
export const FLAG_ACKED = FLAG.FLAG_DATA_ACKED | FLAG.FLAG_SYN_ACKED;
export const FLAG_NOT_DUP = FLAG.FLAG_DATA | FLAG.FLAG_WIN_UPDATE | FLAG_ACKED;
export const FLAG_CA_ALERT = FLAG.FLAG_DATA_SACKED | FLAG.FLAG_ECE | FLAG.FLAG_DSACKING_ACK;
export const FLAG_FORWARD_PROGRESS = FLAG_ACKED | FLAG.FLAG_DATA_SACKED;

/** The synack_type of tcp_make_synack. */
export const TCP_SYNACK = { TCP_SYNACK_NORMAL: 0, TCP_SYNACK_FASTOPEN: 1, TCP_SYNACK_COOKIE: 2 } as const;

/** enum tcp_tw_status. */
export const TCP_TW = { TCP_TW_SUCCESS: 0, TCP_TW_RST: 1, TCP_TW_ACK: 2, TCP_TW_SYN: 3, TCP_TW_ACK_OOW: 4 } as const;

// --- struct tcphdr, read from the buffer at `off` (the header's first byte) ---
export function th_source(v: DataView, off: number): number {
  return v.getUint16(off);
}
export function th_dest(v: DataView, off: number): number {
  return v.getUint16(off + 2);
}
export function th_seq(v: DataView, off: number): number {
  return v.getUint32(off + 4);
}
export function th_ack_seq(v: DataView, off: number): number {
  return v.getUint32(off + 8);
}
/** doff in 32-bit words. */
export function th_doff(v: DataView, off: number): number {
  return v.getUint8(off + 12) >>> 4;
}
export function th_flags(v: DataView, off: number): number {
  return v.getUint8(off + 13);
}
export function th_window(v: DataView, off: number): number {
  return v.getUint16(off + 14);
}

/** tcp_hdr(skb): the offset of the TCP header in skb.head. */
export function tcp_hdr(skb: SkBuff): number {
  return skb.transport_header;
}

/** tcp_time_stamp_ms: the millisecond clock TSvals come from (tcp_clock_ms). */
export function tcp_clock_ms(ns: number): number {
  return Math.floor(ns / 1e6) >>> 0;
}

/** tcp_clock_us. */
export function tcp_clock_us(ns: number): number {
  return Math.floor(ns / 1e3);
}

/** tcp_clock_ts: the TS clock (u32), microseconds for a usec_ts connection, else milliseconds. */
export function tcp_clock_ts(usec_ts: boolean, ns: number): number {
  return usec_ts ? tcp_clock_us(ns) >>> 0 : tcp_clock_ms(ns);
}
