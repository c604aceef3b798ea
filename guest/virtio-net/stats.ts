// The driver's counters, after Linux's virtnet_rq_stats / virtnet_sq_stats and the ethtool names
// built from them, flattened for one queue pair. Plain number fields bumped on the packet path;
// virtnet_get_stats() copies them into a record (for ShmCounters or a final report).
//
// Every frame taken off the rx ring ends in exactly one outcome:
//   rx_frames = rx_packets + rx_drops + rx_length_errors
//             + rx_xdp_drops + rx_xdp_aborted + rx_xdp_redirects + rx_xdp_tx
//   rx_xdp_tx = tx_xdp_tx + tx_xdp_tx_drops
// and on transmit: tx_packets (completions) counts XDP_TX frames and the stack's (tx_skb) alike.
// and every buffer: rx_buffers = rx_frames + the extra buffers of multi-buffer frames (dropped).

export class VirtnetStats {
  // --- receive queue ---
  /** Used rx buffers taken off the ring. */
  rx_buffers = 0;
  /** Frames those buffers held (each counted once below). */
  rx_frames = 0;
  /** Delivered to the guest stack: no program, or XDP_PASS (bytes after adjust_head/tail). */
  rx_packets = 0;
  rx_bytes = 0;
  /** Dropped by the driver: multi-buffer frames, GSO frames under XDP. */
  rx_drops = 0;
  /** A used length shorter than the header or longer than the buffer, num_buffers 0. */
  rx_length_errors = 0;
  /** Program runs. */
  rx_xdp_packets = 0;
  rx_xdp_tx = 0;
  /** XDP_REDIRECT verdicts: not supported by this driver, so dropped. */
  rx_xdp_redirects = 0;
  rx_xdp_drops = 0;
  /** XDP_ABORTED and invalid actions (trace_xdp_exception). */
  rx_xdp_aborted = 0;
  /** Buffers added to the rx ring by try_fill_recv. */
  rx_refills = 0;
  /** try_fill_recv calls that ran out of free buffers before the ring was full. */
  rx_refill_short = 0;
  rx_kicks = 0;
  rx_kicks_suppressed = 0;
  napi_polls = 0;
  /** Polls that finished under budget and re-enabled callbacks. */
  napi_complete = 0;
  /** Re-enables whose re-check found new buffers (virtqueue_napi_complete rescheduling). */
  napi_repoll = 0;

  // --- send queue (XDP_TX) ---
  /** Frames XDP_TX put on the tx ring. */
  tx_xdp_tx = 0;
  /** XDP_TX frames that found the tx ring full even after reclaiming. */
  tx_xdp_tx_drops = 0;
  /** Tx buffers the device completed, reclaimed by free_old_xmit. */
  tx_packets = 0;
  tx_bytes = 0;
  tx_kicks = 0;
  tx_kicks_suppressed = 0;

  // --- send queue (the stack's start_xmit) ---
  /** Frames the stack handed to start_xmit that went on the tx ring, and their bytes. */
  tx_skb = 0;
  tx_skb_bytes = 0;
  /** start_xmit calls that found no room (NETDEV_TX_BUSY: dev_queue_xmit drops and counts tx_dropped). */
  tx_skb_busy = 0;
  /** Frames larger than a buffer (over the MTU): dropped by start_xmit. */
  tx_skb_too_big = 0;
  /** netif_stop_queue when fewer than 2 + MAX_SKB_FRAGS descriptors were left, and the wakes after completions. */
  tx_queue_stops = 0;
  tx_queue_wakes = 0;

  // --- control queue ---
  ctrl_commands = 0;
  ctrl_ok = 0;
  ctrl_err = 0;
  ctrl_kicks = 0;
  /** Calls of the caller's waitCtrl strategy. */
  ctrl_waits = 0;

  /** A copy of every counter as a flat record. */
  toRecord(): VirtnetStatsRecord {
    const out = {} as VirtnetStatsRecord;
    for (const k of VIRTNET_STAT_NAMES) out[k] = this[k];
    return out;
  }
}

export type VirtnetStatName = { [K in keyof VirtnetStats]: VirtnetStats[K] extends number ? K : never }[keyof VirtnetStats];

export type VirtnetStatsRecord = Record<VirtnetStatName, number>;

/** The counter names, in declaration order (what ShmCounters.create needs). */
export const VIRTNET_STAT_NAMES: readonly VirtnetStatName[] = Object.keys(new VirtnetStats()) as VirtnetStatName[];
