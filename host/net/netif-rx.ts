// netif_rx on the host worker: the per-CPU backlog (softnet_data's input_pkt_queue and
// process_queue, net/core/dev.c) that a tc program's bpf_redirect(ifindex, BPF_F_INGRESS) feeds
// (__bpf_redirect -> __bpf_rx_skb -> netif_rx -> enqueue_to_backlog). The skb is not received
// where the program ran: it waits here until the backlog's NAPI instance is polled
// (process_backlog), which net_rx_action does after the poll that queued it returns, so a
// redirect never re-enters a device's receive path from inside its caller, and a program that
// redirects a packet back into its own device's receive path loops through this queue, one pass
// per poll, instead of recursing.
//
// Bounds as enqueue_to_backlog's: a packet is queued while input_pkt_queue holds at most
// netdev_max_backlog (so it can reach netdev_max_backlog + 1), else it is dropped and counted
// (softnet_data->dropped, SKB_DROP_REASON_CPU_BACKLOG); flow limits are off, as by default.
// process_backlog takes at most its quota (dev_rx_weight) per poll: first what process_queue
// holds, then, once that is empty, all of input_pkt_queue spliced behind it; what is queued while
// it runs waits for the splice. process_queue does not count against the bound, so both together
// hold at most 2 * (netdev_max_backlog + 1) skbs.
//
// The skbs are frame-pool handles (the host's skbs), each with the ifindex of the device whose
// receive path it enters. The tap's frames from vhost cross threads through tun/backlog.ts instead:
// that queue is the vhost thread's, this one the host worker's.
import { HostNetError } from './errors.ts';

export const SOFTNET_DEFAULTS = {
  /** net.core.netdev_max_backlog. */
  netdev_max_backlog: 1000,
  /** net.core.dev_weight (weight_p): process_backlog's quota per poll. */
  dev_rx_weight: 64,
} as const;

/** Where a dequeued skb goes: __netif_receive_skb on the device with this ifindex (it takes the skb). */
export type BacklogReceive = (h: number, ifindex: number) => void;

export interface SoftnetBacklogCounters {
  /** Skbs netif_rx queued. */
  enqueued: number;
  /** Skbs process_backlog handed to their device's receive path. */
  processed: number;
  /** Skbs refused by a full input_pkt_queue (softnet_stat's dropped column). */
  dropped: number;
  /** Skbs waiting now (input_pkt_queue + process_queue): enqueued - processed. */
  queued: number;
  /** process_backlog calls that found work. */
  polls: number;
}

export class HostSoftnetBacklog {
  readonly netdev_max_backlog: number;
  private readonly skbs: Int32Array;
  private readonly devs: Int32Array;
  private readonly mask: number;
  /** Free-running positions: process_queue is [head, split), input_pkt_queue is [split, tail). */
  private head = 0;
  private split = 0;
  private tail = 0;

  enqueued = 0;
  processed = 0;
  dropped = 0;
  polls = 0;

  constructor(netdev_max_backlog: number = SOFTNET_DEFAULTS.netdev_max_backlog) {
    if (!Number.isInteger(netdev_max_backlog) || netdev_max_backlog < 0 || netdev_max_backlog > 1 << 20) {
      throw new HostNetError('EINVAL', `netdev_max_backlog ${netdev_max_backlog} (0..${1 << 20})`);
    }
    this.netdev_max_backlog = netdev_max_backlog;
    let slots = 1;
    while (slots < 2 * (netdev_max_backlog + 1)) slots <<= 1;
    this.skbs = new Int32Array(slots);
    this.devs = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** input_pkt_queue's length: what the bound is checked against. */
  get qlen(): number {
    return this.tail - this.split;
  }

  /** Every skb waiting, process_queue's included. */
  get queued(): number {
    return this.tail - this.head;
  }

  /**
   * enqueue_to_backlog: skb h queued for `ifindex`'s receive path, true; false when input_pkt_queue
   * is over netdev_max_backlog (the skb is the caller's to free, as NET_RX_DROP tells it).
   */
  enqueue_to_backlog(h: number, ifindex: number): boolean {
    if (this.tail - this.split > this.netdev_max_backlog) {
      this.dropped++;
      return false;
    }
    const i = this.tail & this.mask;
    this.skbs[i] = h;
    this.devs[i] = ifindex;
    this.tail++;
    this.enqueued++;
    return true;
  }

  /**
   * process_backlog: up to `quota` skbs, in the order they were queued, each to `receive`. What
   * receive queues meanwhile joins input_pkt_queue and is taken in this call only after
   * process_queue ran dry and quota is left. Returns how many it took.
   */
  process_backlog(quota: number, receive: BacklogReceive): number {
    if (this.tail === this.head) return 0;
    this.polls++;
    const skbs = this.skbs, devs = this.devs, mask = this.mask;
    let work = 0;
    for (;;) {
      while (this.head !== this.split) {
        const i = this.head & mask;
        this.head++;
        this.processed++;
        receive(skbs[i]!, devs[i]!);
        if (++work >= quota) return work;
      }
      // process_queue is empty: splice input_pkt_queue behind it, or the NAPI instance completes.
      if (this.split === this.tail) return work;
      this.split = this.tail;
    }
  }

  counters(): SoftnetBacklogCounters {
    return {
      enqueued: this.enqueued, processed: this.processed, dropped: this.dropped, queued: this.queued,
      polls: this.polls,
    };
  }
}
