// CUBIC (net/ipv4/tcp_cubic.c, RFC 9438), Linux's default congestion control. After a loss the
// window drops to beta = 717/1024 (~0.7) of W_max and then follows W(t) = C (t - K)^3 + W_max,
// C = 0.4 (bic_scale 41 * 10 / 1024), K the time to climb back to W_max; never slower than an
// emulated Reno flow (TCP friendliness). HyStart ends slow start early on an ACK train as long as
// half the minimum RTT or on an RTT increase, counted in TcpExt TCPHystart*.
//
// Times are the kernel's: epochs in jiffies (tcp_jiffies32), RTTs and HyStart rounds in
// microseconds (tp->tcp_mstamp). Everything is u32 arithmetic as in the kernel, where it matters
// (wraparound of the clocks, bic_target below the origin); the cube uses exact u64 maths.
import { HZ } from '../core/clock.ts';
import { type TcpSock, TCP_CA, after, tcp_in_slow_start, tcp_is_cwnd_limited } from './tcp-sock.ts';
import {
  type AckSample, type TcpCongestionOps, CA_EVENT, tcp_cong_avoid_ai, tcp_reno_undo_cwnd, tcp_slow_start,
} from './tcp-cong.ts';

/** Scale of beta: W = cwnd * beta / BICTCP_BETA_SCALE. */
export const BICTCP_BETA_SCALE = 1024;
/** Time in the cubic function is in units of 2^-BICTCP_HZ s. */
export const BICTCP_HZ = 10;

/** HyStart's two detectors (the hystart_detect bits). */
export const HYSTART_ACK_TRAIN = 0x1;
export const HYSTART_DELAY = 0x2;
/** RTT samples a round needs before the delay detector may fire. */
export const HYSTART_MIN_SAMPLES = 8;
/** The delay increase that ends slow start: delay_min / 8 clamped to 4..16 ms (us). */
export const HYSTART_DELAY_MIN = 4000;
export const HYSTART_DELAY_MAX = 16000;

export function HYSTART_DELAY_THRESH(x: number): number {
  return x < HYSTART_DELAY_MIN ? HYSTART_DELAY_MIN : x > HYSTART_DELAY_MAX ? HYSTART_DELAY_MAX : x;
}

/**
 * The module parameters (/sys/module/tcp_cubic/parameters). beta and bic_scale feed the factors
 * below, computed once at load as cubictcp_register does, so changing them later affects only what
 * reads them directly (beta in ssthresh, as in the kernel).
 */
export const cubic_params = {
  fast_convergence: 1,
  beta: 717,
  initial_ssthresh: 0,
  bic_scale: 41,
  tcp_friendliness: 1,
  hystart: 1,
  hystart_detect: HYSTART_ACK_TRAIN | HYSTART_DELAY,
  hystart_low_window: 16,
  hystart_ack_delta_us: 2000,
};

/** Reno's growth against CUBIC's: 8 (1 + beta) / 3 / (1 - beta), scaled (15 for beta 717). */
export const beta_scale = Math.floor(Math.floor((8 * (BICTCP_BETA_SCALE + cubic_params.beta)) / 3) / (BICTCP_BETA_SCALE - cubic_params.beta));
/** 1024 * C / rtt, C = bic_scale / 1024 and rtt 100 ms: 410. */
export const cube_rtt_scale = cubic_params.bic_scale * 10;
/** 2^(10 + 3 BICTCP_HZ) / (bic_scale * 10): K = cbrt(cube_factor * (W_max - cwnd)). */
export const cube_factor = Math.floor(2 ** (10 + 3 * BICTCP_HZ) / (cubic_params.bic_scale * 10));

/** struct bictcp: CUBIC's per-socket state (icsk_ca_priv). */
export class BicTcp {
  /** Increase cwnd by 1 after this many ACKed segments. */
  cnt = 0;
  /** W_max: cwnd before the last reduction. */
  last_max_cwnd = 0;
  /** cwnd and time (jiffies) of the last update. */
  last_cwnd = 0;
  last_time = 0;
  /** The plateau of the cubic function (W_max, or cwnd when above it). */
  bic_origin_point = 0;
  /** K in 2^-10 s: from the epoch's start to the plateau. */
  bic_K = 0;
  /** Minimum RTT seen, us. */
  delay_min = 0;
  /** When the epoch (the growth since the last reduction) began, jiffies; 0 when none. */
  epoch_start = 0;
  /** Segments ACKed in this epoch (for the Reno estimate). */
  ack_cnt = 0;
  /** The window a Reno flow would have now. */
  tcp_cwnd = 0;
  // HyStart
  /** RTT samples taken this round. */
  sample_cnt = 0;
  /** An exit point was found (slow start is over). */
  found = 0;
  /** When the round began and when the last ACK of a train arrived, us. */
  round_start = 0;
  last_ack = 0;
  /** snd_nxt when the round began: the round ends when it is ACKed. */
  end_seq = 0;
  /** Minimum RTT in the current round, us (~0 at the start). */
  curr_rtt = 0;
}

/** inet_csk_ca: the socket's BicTcp, created zeroed if absent (the kernel's priv area is zeroed on assignment). */
export function inet_csk_ca(sk: TcpSock): BicTcp {
  const p = sk.icsk_ca_priv;
  if (p instanceof BicTcp) return p;
  const ca = new BicTcp();
  sk.icsk_ca_priv = ca;
  return ca;
}

function tcp_jiffies32(sk: TcpSock): number {
  return sk.skc_net.boot.clock.get_jiffies_64() >>> 0;
}

/** bictcp_clock_us: the u32 microsecond clock of the current event. */
function bictcp_clock_us(sk: TcpSock): number {
  return sk.tcp_mstamp >>> 0;
}

/** bictcp_reset: clears the cubic state (not HyStart's round). */
export function bictcp_reset(ca: BicTcp): void {
  ca.cnt = 0;
  ca.last_max_cwnd = 0;
  ca.last_cwnd = 0;
  ca.last_time = 0;
  ca.bic_origin_point = 0;
  ca.bic_K = 0;
  ca.delay_min = 0;
  ca.epoch_start = 0;
  ca.ack_cnt = 0;
  ca.tcp_cwnd = 0;
  ca.found = 0;
}

/** bictcp_hystart_reset: a new HyStart round starts now, ending when snd_nxt is ACKed. */
export function bictcp_hystart_reset(sk: TcpSock): void {
  const ca = inet_csk_ca(sk);
  ca.round_start = ca.last_ack = bictcp_clock_us(sk);
  ca.end_seq = sk.snd_nxt;
  ca.curr_rtt = 0xffffffff;
  ca.sample_cnt = 0;
}

export function cubictcp_init(sk: TcpSock): void {
  const ca = inet_csk_ca(sk);
  bictcp_reset(ca);
  if (cubic_params.hystart) bictcp_hystart_reset(sk);
  if (!cubic_params.hystart && cubic_params.initial_ssthresh) sk.snd_ssthresh = cubic_params.initial_ssthresh;
}

/**
 * cubictcp_cwnd_event: on CA_EVENT_TX_START after an idle (application-limited) period, moves the
 * epoch's start forward by the idle time so cwnd resumes on the curve where it left off.
 */
export function cubictcp_cwnd_event(sk: TcpSock, event: number): void {
  if (event !== CA_EVENT.CA_EVENT_TX_START) return;
  const ca = inet_csk_ca(sk);
  const now = tcp_jiffies32(sk);
  const delta = (now - sk.lsndtime) | 0;
  if (ca.epoch_start && delta > 0) {
    ca.epoch_start = (ca.epoch_start + delta) >>> 0;
    if (after(ca.epoch_start, now)) ca.epoch_start = now;
  }
}

// cbrt's top bits: for x in 0..63, v[x] = cbrt(x << 18) - 1, hand-refined (the kernel's table).
const cbrt_v = Uint8Array.of(
  0, 54, 54, 54, 118, 118, 118, 118,
  123, 129, 134, 138, 143, 147, 151, 156,
  157, 161, 164, 168, 170, 173, 176, 179,
  181, 185, 187, 190, 192, 194, 197, 199,
  200, 202, 204, 206, 209, 211, 213, 215,
  217, 219, 221, 222, 224, 225, 227, 229,
  231, 232, 234, 236, 237, 239, 240, 242,
  244, 245, 246, 248, 250, 251, 252, 254,
);

/** fls64 for a non-negative integer below 2^53. */
function fls64(a: number): number {
  if (a === 0) return 0;
  const hi = Math.floor(a / 4294967296);
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(a >>> 0);
}

/** floor(a / d) for integers below 2^53, exact (the float quotient can round up to the next integer). */
function div_exact(a: number, d: number): number {
  let q = Math.floor(a / d);
  if (q * d > a) q--;
  else if ((q + 1) * d <= a) q++;
  return q;
}

/**
 * cubic_root: cbrt(a) from the table's estimate and one Newton-Raphson step (average error about
 * 0.2%), as the kernel computes it, so K and hence cwnd match it to the segment. `a` is a u64,
 * given as a number (exact below 2^53) or a bigint.
 */
export function cubic_root(a: number | bigint): number {
  if (typeof a === 'bigint') {
    if (a < 2n ** 53n) return cubic_root(Number(a));
    return cubic_root_big(a);
  }
  let b = fls64(a);
  if (b < 7) return (cbrt_v[a]! + 35) >>> 6;
  b = ((b * 84) >>> 8) - 1;
  const shift = Math.floor(a / 2 ** (b * 3));
  let x = (((cbrt_v[shift]! + 10) << b) >>> 0) >>> 6;
  x = (2 * x + (div_exact(a, x * (x - 1)) >>> 0)) >>> 0;
  return (Math.imul(x, 341) >>> 0) >>> 10;
}

function cubic_root_big(a: bigint): number {
  let b = a.toString(2).length;
  b = ((b * 84) >>> 8) - 1;
  const shift = Number(a >> BigInt(b * 3));
  let x = (((cbrt_v[shift]! + 10) << b) >>> 0) >>> 6;
  const q = Number(BigInt.asUintN(32, a / (BigInt(x) * BigInt(x - 1))));
  x = (2 * x + q) >>> 0;
  return (Math.imul(x, 341) >>> 0) >>> 10;
}

/** (cube_rtt_scale * offs^3) >> 40 as the kernel's u64 product truncated to u32. */
function cubic_delta(offs: number): number {
  if (offs < 16384) {
    // 410 * 2^42 < 2^53: exact in a double.
    return Math.floor((cube_rtt_scale * offs * offs * offs) / 2 ** (10 + 3 * BICTCP_HZ)) >>> 0;
  }
  const o = BigInt(offs);
  const p = BigInt.asUintN(64, BigInt(cube_rtt_scale) * o * o * o);
  return Number(BigInt.asUintN(32, p >> BigInt(10 + 3 * BICTCP_HZ)));
}

/** usecs_to_jiffies at HZ = 1000: rounds up. */
function usecs_to_jiffies(us: number): number {
  return Math.ceil(us / (1_000_000 / HZ));
}

/** bictcp_update: ca.cnt, the segments to ACK per cwnd increment, from the cubic curve and the Reno estimate. */
export function bictcp_update(sk: TcpSock, ca: BicTcp, cwnd: number, acked: number): void {
  const now = tcp_jiffies32(sk);
  ca.ack_cnt = (ca.ack_cnt + acked) >>> 0;

  if (ca.last_cwnd === cwnd && ((now - ca.last_time) | 0) <= Math.floor(HZ / 32)) return;

  // The curve is evaluated at most once a jiffy; a reduction zeroes epoch_start, forcing it.
  if (!(ca.epoch_start && now === ca.last_time)) {
    ca.last_cwnd = cwnd;
    ca.last_time = now;

    if (ca.epoch_start === 0) {
      ca.epoch_start = now;
      ca.ack_cnt = acked;
      ca.tcp_cwnd = cwnd;
      if (ca.last_max_cwnd <= cwnd) {
        ca.bic_K = 0;
        ca.bic_origin_point = cwnd;
      } else {
        const diff = ca.last_max_cwnd - cwnd;
        const prod = cube_factor * diff;
        ca.bic_K = cubic_root(prod < 2 ** 53 ? prod : BigInt(cube_factor) * BigInt(diff));
        ca.bic_origin_point = ca.last_max_cwnd;
      }
    }

    // t: time since the epoch began plus one minimum RTT (the window being set now takes effect
    // an RTT later), in 2^-10 s.
    let t = ((now - ca.epoch_start) | 0) + usecs_to_jiffies(ca.delay_min);
    t = Math.floor((t * 2 ** BICTCP_HZ) / HZ);
    const offs = t < ca.bic_K ? ca.bic_K - t : t - ca.bic_K;
    const delta = cubic_delta(offs);
    const bic_target = t < ca.bic_K ? (ca.bic_origin_point - delta) >>> 0 : (ca.bic_origin_point + delta) >>> 0;

    if (bic_target > cwnd) ca.cnt = Math.floor(cwnd / (bic_target - cwnd));
    else ca.cnt = (100 * cwnd) >>> 0; // very small increment

    // Without a W_max yet (no loss so far), grow at least 5% a round trip.
    if (ca.last_max_cwnd === 0 && ca.cnt > 20) ca.cnt = 20;
  }

  // TCP friendliness: a Reno flow with the same losses gains 1 segment per (cwnd * beta_scale / 8) ACKed.
  if (cubic_params.tcp_friendliness) {
    const d = (cwnd * beta_scale) >>> 3;
    if (d > 0) {
      while (ca.ack_cnt > d) {
        ca.ack_cnt -= d;
        ca.tcp_cwnd++;
      }
    }
    if (ca.tcp_cwnd > cwnd) {
      const max_cnt = Math.floor(cwnd / (ca.tcp_cwnd - cwnd));
      if (ca.cnt > max_cnt) ca.cnt = max_cnt;
    }
  }

  // At most 1 segment per 2 ACKed: 1.5x a round trip.
  if (ca.cnt < 2) ca.cnt = 2;
}

export function cubictcp_cong_avoid(sk: TcpSock, _ack: number, acked: number): void {
  const ca = inet_csk_ca(sk);
  if (!tcp_is_cwnd_limited(sk)) return;
  let left = acked;
  if (tcp_in_slow_start(sk)) {
    left = tcp_slow_start(sk, left);
    if (!left) return;
  }
  bictcp_update(sk, ca, sk.snd_cwnd, left);
  tcp_cong_avoid_ai(sk, ca.cnt, left);
}

/** cubictcp_recalc_ssthresh: ends the epoch, remembers W_max (lowered further by fast convergence), returns cwnd * beta. */
export function cubictcp_recalc_ssthresh(sk: TcpSock): number {
  const ca = inet_csk_ca(sk);
  const cwnd = sk.snd_cwnd;
  ca.epoch_start = 0;
  // A loss below the last W_max means the share is shrinking: give up more, converge faster.
  if (cwnd < ca.last_max_cwnd && cubic_params.fast_convergence) {
    ca.last_max_cwnd = Math.floor((cwnd * (BICTCP_BETA_SCALE + cubic_params.beta)) / (2 * BICTCP_BETA_SCALE));
  } else {
    ca.last_max_cwnd = cwnd;
  }
  return Math.max(Math.floor((cwnd * cubic_params.beta) / BICTCP_BETA_SCALE), 2);
}

/** cubictcp_state: a timeout (TCP_CA_Loss) starts over, HyStart included. */
export function cubictcp_state(sk: TcpSock, new_state: number): void {
  if (new_state === TCP_CA.TCP_CA_Loss) {
    bictcp_reset(inet_csk_ca(sk));
    bictcp_hystart_reset(sk);
  }
}

/**
 * hystart_ack_delay: a cushion for TSO/GRO aggregation, from the pacing rate. No pacing is
 * modelled (sk_pacing_rate 0), so none.
 */
function hystart_ack_delay(_sk: TcpSock): number {
  return 0;
}

function hystart_update(sk: TcpSock, delay: number): void {
  const ca = inet_csk_ca(sk);
  const mib = sk.skc_net.mib.net;

  if (after(sk.snd_una, ca.end_seq)) bictcp_hystart_reset(sk);

  if (cubic_params.hystart_detect & HYSTART_ACK_TRAIN) {
    const now = bictcp_clock_us(sk);
    // ACKs closer than hystart_ack_delta_us belong to one train; a train as long as half the
    // minimum RTT means the pipe is full. (Paced flows may be stretched to a full RTT: without
    // pacing, sk_pacing_status is SK_PACING_NONE and the half applies.)
    if (((now - ca.last_ack) | 0) <= cubic_params.hystart_ack_delta_us) {
      ca.last_ack = now;
      let threshold = ca.delay_min + hystart_ack_delay(sk);
      threshold >>>= 1;
      if (((now - ca.round_start) | 0) > threshold) {
        ca.found = 1;
        mib.TCPHystartTrainDetect++;
        mib.TCPHystartTrainCwnd += sk.snd_cwnd;
        sk.snd_ssthresh = sk.snd_cwnd;
      }
    }
  }

  if (cubic_params.hystart_detect & HYSTART_DELAY) {
    // The round's minimum RTT, once it has enough samples, against the flow's minimum.
    if (ca.curr_rtt > delay) ca.curr_rtt = delay;
    if (ca.sample_cnt < HYSTART_MIN_SAMPLES) {
      ca.sample_cnt++;
    } else if (ca.curr_rtt > ca.delay_min + HYSTART_DELAY_THRESH(ca.delay_min >>> 3)) {
      ca.found = 1;
      mib.TCPHystartDelayDetect++;
      mib.TCPHystartDelayCwnd += sk.snd_cwnd;
      sk.snd_ssthresh = sk.snd_cwnd;
    }
  }
}

/** cubictcp_acked (pkts_acked): tracks delay_min and runs HyStart in slow start. */
export function cubictcp_acked(sk: TcpSock, sample: AckSample): void {
  const ca = inet_csk_ca(sk);
  if (sample.rtt_us < 0) return;
  // Samples right after a reduction are skewed by the recovery: skip the first second.
  if (ca.epoch_start && ((tcp_jiffies32(sk) - ca.epoch_start) | 0) < HZ) return;
  let delay = sample.rtt_us >>> 0;
  if (delay === 0) delay = 1;
  if (ca.delay_min === 0 || ca.delay_min > delay) ca.delay_min = delay;
  if (!ca.found && tcp_in_slow_start(sk) && cubic_params.hystart && sk.snd_cwnd >= cubic_params.hystart_low_window) {
    hystart_update(sk, delay);
  }
}

export const cubictcp: TcpCongestionOps = {
  name: 'cubic',
  flags: 0,
  init: cubictcp_init,
  ssthresh: cubictcp_recalc_ssthresh,
  cong_avoid: cubictcp_cong_avoid,
  set_state: cubictcp_state,
  undo_cwnd: tcp_reno_undo_cwnd,
  cwnd_event: cubictcp_cwnd_event,
  pkts_acked: cubictcp_acked,
};
