// The receive queues (tcp_data_queue, tcp_data_queue_ofo, tcp_ofo_queue, the SACK blocks of our
// ACKs): in-order data goes to sk_receive_queue; data past a hole to out_of_order_queue, kept
// sorted and without overlaps (overlapping bytes are trimmed on insertion, the duplicate part
// reported as a D-SACK); filling the hole moves it over. The SACK blocks we send list the
// out-of-order runs, the one holding the most recent segment first (RFC 2018 4).
import {
  kfree_skb_reason, skb_pull, skb_trim, __skb_queue_after, __skb_queue_tail, __skb_unlink, SKB_DROP_REASONS, type SkBuff,
} from '../core/skbuff.ts';
import { after, before, type TcpSock } from './tcp-sock.ts';
import { TCPHDR_FIN, TCP_SIZES } from './tcp-defs.ts';
import { tcp_is_sack } from './tcp-util.ts';

/** tcp_dsack_set: report [seq, end_seq) as received twice in the next ACK (RFC 2883). */
export function tcp_dsack_set(tp: TcpSock, seq: number, end_seq: number): void {
  if (!tcp_is_sack(tp) || !tp.skc_net.ipv4.sysctl_tcp_dsack) return;
  if (before(seq, tp.rcv_nxt)) tp.skc_net.mib.net.TCPDSACKOldSent++;
  else tp.skc_net.mib.net.TCPDSACKOfoSent++;
  tp.dsack = true;
  tp.duplicate_sack.start_seq = seq >>> 0;
  tp.duplicate_sack.end_seq = end_seq >>> 0;
}

/** Whether skb fits the receive buffer as it is (sk_rmem_schedule). */
export function tcp_rmem_fits(tp: TcpSock, skb: SkBuff): boolean {
  return tp.sk_rmem_alloc + skb.truesize <= tp.sk_rcvbuf;
}

/**
 * tcp_prune_ofo_queue: frees out-of-order data from the highest sequence down (never below the
 * incoming skb's) until an eighth of the buffer is free and skb fits. The SACK state is reset, as
 * after an RTO. true if anything was dropped (OfoPruned).
 */
export function tcp_prune_ofo_queue(tp: TcpSock, in_skb: SkBuff | null): boolean {
  const q = tp.out_of_order_queue;
  if (q.qlen === 0) return false;
  tp.skc_net.mib.net.OfoPruned++;
  let goal = tp.sk_rcvbuf >> 3;
  let pruned = false;
  let skb = q.last;
  while (skb !== null) {
    if (in_skb !== null && after(in_skb.cb.seq, skb.cb.seq)) break;
    const prev = skb.prev;
    goal -= skb.truesize;
    __skb_unlink(skb, q);
    tp.sk_rmem_alloc -= skb.truesize;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OFO_QUEUE_PRUNE);
    pruned = true;
    skb = prev;
    if (goal <= 0 && tp.sk_rmem_alloc + (in_skb?.truesize ?? 0) <= tp.sk_rcvbuf) break;
  }
  if (pruned) {
    tp.selective_acks.length = 0;
    tp.rx_opt.num_sacks = 0;
  }
  return pruned;
}

/**
 * tcp_prune_queue: the receive buffer is overcommitted: the window is clamped (rcv_ssthresh to two
 * segments), then out-of-order data goes. PruneCalled; RcvPruned when even that is not enough.
 * 0, or -1 (the caller drops). Collapsing queued skbs into fewer buffers (TCPRcvCollapsed) is not
 * modelled.
 */
function tcp_prune_queue(tp: TcpSock, in_skb: SkBuff): number {
  const mib = tp.skc_net.mib.net;
  mib.PruneCalled++;
  // tcp_clamp_window (without growing sk_rcvbuf, which the window arithmetic here keeps fixed).
  tp.icsk_ack_quick = 0;
  if (tp.sk_rmem_alloc + in_skb.truesize > tp.sk_rcvbuf) tp.rcv_ssthresh = Math.min(tp.window_clamp, 2 * tp.advmss);
  if (tcp_rmem_fits(tp, in_skb)) return 0;
  tcp_prune_ofo_queue(tp, in_skb);
  if (tcp_rmem_fits(tp, in_skb)) return 0;
  mib.RcvPruned++;
  tp.pred_flags = 0;
  return -1;
}

/** tcp_try_rmem_schedule: room for skb, pruning if needed; false when there is none (the skb is not charged). */
export function tcp_try_rmem_schedule(tp: TcpSock, skb: SkBuff): boolean {
  if (tcp_rmem_fits(tp, skb)) return true;
  if (tcp_prune_queue(tp, skb) < 0) return false;
  while (!tcp_rmem_fits(tp, skb)) if (!tcp_prune_ofo_queue(tp, skb)) return false;
  return true;
}

/**
 * tcp_sack_rebuild: the SACK blocks from the out-of-order queue's runs. The run holding
 * [recent_seq, recent_end) comes first, then the others in the order they had, then by sequence;
 * at most TCP_NUM_SACKS.
 */
export function tcp_sack_rebuild(tp: TcpSock, recent_seq: number, recent_end: number, have_recent: boolean): void {
  const runs: { start_seq: number; end_seq: number }[] = [];
  let cur: { start_seq: number; end_seq: number } | null = null;
  for (let skb = tp.out_of_order_queue.first; skb !== null; skb = skb.next) {
    if (cur !== null && !after(skb.cb.seq, cur.end_seq)) {
      if (after(skb.cb.end_seq, cur.end_seq)) cur.end_seq = skb.cb.end_seq;
    } else {
      cur = { start_seq: skb.cb.seq, end_seq: skb.cb.end_seq };
      runs.push(cur);
    }
  }
  const old = tp.selective_acks.slice();
  const rank = (r: { start_seq: number; end_seq: number }): number => {
    if (have_recent && !before(recent_seq, r.start_seq) && !after(recent_end, r.end_seq)) return -1;
    for (let i = 0; i < old.length; i++) {
      const o = old[i]!;
      if (!before(o.start_seq, r.start_seq) && !after(o.end_seq, r.end_seq)) return i;
    }
    return old.length;
  };
  const ranked = runs.map((r, i) => ({ r, k: rank(r), i }));
  ranked.sort((a, b) => a.k - b.k || a.i - b.i);
  tp.selective_acks.length = 0;
  for (let i = 0; i < ranked.length && i < TCP_SIZES.TCP_NUM_SACKS; i++) tp.selective_acks.push(ranked[i]!.r);
  tp.rx_opt.num_sacks = tp.selective_acks.length;
}

/**
 * tcp_data_queue_ofo: an skb (data at its payload) past rcv_nxt. Bytes already queued are trimmed
 * (D-SACK), wholly covered entries replaced. TCPOFOQueue, TCPOFODrop, TCPOFOMerge.
 */
export function tcp_data_queue_ofo(tp: TcpSock, skb: SkBuff): void {
  const mib = tp.skc_net.mib.net;
  if (!tcp_try_rmem_schedule(tp, skb)) {
    mib.TCPOFODrop++;
    tp.sk_drops++;
    kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OFO_DROP);
    return;
  }
  tp.sk_rmem_alloc += skb.truesize;
  tp.pred_flags = 0;
  // inet_csk_schedule_ack: every out-of-order segment is answered (a duplicate ACK, with SACK).
  tp.icsk_ack_pending |= 1;
  mib.TCPOFOQueue++;
  const q = tp.out_of_order_queue;
  const seq = skb.cb.seq;
  const end_seq = skb.cb.end_seq;
  // The last entry that starts at or before seq.
  let prev: SkBuff | null = q.last;
  while (prev !== null && after(prev.cb.seq, seq)) prev = prev.prev;
  if (prev !== null && after(prev.cb.end_seq, seq)) {
    if (!after(end_seq, prev.cb.end_seq)) {
      // All of it is queued already.
      tcp_dsack_set(tp, seq, end_seq);
      mib.TCPOFOMerge++;
      tp.sk_rmem_alloc -= skb.truesize;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OFOMERGE);
      tcp_sack_rebuild(tp, seq, end_seq, true);
      return;
    }
    // The head overlaps prev: keep only the new bytes.
    tcp_dsack_set(tp, seq, prev.cb.end_seq);
    const overlap = (prev.cb.end_seq - seq) >>> 0;
    skb_pull(skb, overlap);
    skb.cb.seq = prev.cb.end_seq;
  }
  // Entries the new one covers entirely go; one it overlaps partly loses the overlap from our tail.
  let next: SkBuff | null = prev !== null ? prev.next : q.first;
  while (next !== null && before(next.cb.seq, skb.cb.end_seq)) {
    if (!after(next.cb.end_seq, skb.cb.end_seq)) {
      const n2 = next.next;
      tcp_dsack_set(tp, next.cb.seq, next.cb.end_seq);
      mib.TCPOFOMerge++;
      __skb_unlink(next, q);
      tp.sk_rmem_alloc -= next.truesize;
      kfree_skb_reason(next, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OFOMERGE);
      next = n2;
      continue;
    }
    const keep = (next.cb.seq - skb.cb.seq) >>> 0;
    const qb = q.bytes;
    skb_trim(skb, keep);
    q.bytes = qb;
    skb.cb.end_seq = next.cb.seq;
    skb.cb.tcp_flags &= ~TCPHDR_FIN;
    break;
  }
  __skb_queue_after(q, prev, skb);
  if (tcp_is_sack(tp)) tcp_sack_rebuild(tp, seq, end_seq, true);
}

/**
 * tcp_ofo_queue: moves what now follows rcv_nxt to the receive queue; returns a FIN flag seen
 * (the caller runs tcp_fin).
 */
export function tcp_ofo_queue(tp: TcpSock, queue_rcv: (skb: SkBuff) => void): boolean {
  const q = tp.out_of_order_queue;
  let fin = false;
  let skb = q.first;
  while (skb !== null) {
    if (after(skb.cb.seq, tp.rcv_nxt)) break;
    const next = skb.next;
    __skb_unlink(skb, q);
    if (!after(skb.cb.end_seq, tp.rcv_nxt)) {
      tp.sk_rmem_alloc -= skb.truesize;
      kfree_skb_reason(skb, SKB_DROP_REASONS.SKB_DROP_REASON_TCP_OFO_DROP);
    } else {
      // Already charged to the buffer when it went into the out-of-order queue.
      tp.sk_rmem_alloc -= skb.truesize;
      if (skb.cb.tcp_flags & TCPHDR_FIN) fin = true;
      queue_rcv(skb);
    }
    skb = next;
  }
  return fin;
}

/** tcp_queue_rcv: onto the receive queue; rcv_nxt moves to its end. */
export function tcp_queue_rcv(tp: TcpSock, skb: SkBuff): void {
  tp.sk_rmem_alloc += skb.truesize;
  __skb_queue_tail(tp.sk_receive_queue, skb);
  tp.rcv_nxt = skb.cb.end_seq;
  tp.bytes_received += skb.len;
}
