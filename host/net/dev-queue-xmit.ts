// dev_queue_xmit (net/core/dev.c) for an skb leaving through a device: reset the MAC header to the
// data, pick the transmit queue (netdev_core_pick_tx: the driver's ndo_select_queue, for the tap
// tun_select_queue and its flow hash), then the qdisc. The tap's default qdisc is empty whenever
// the driver keeps up and lets an skb bypass it (TCQ_F_CAN_BYPASS), so the skb goes straight to
// ndo_start_xmit; a queueing qdisc (fq_codel and the like) is not modelled. The device's tc egress
// hook (sch_handle_egress) runs first, before the queue is picked, as in __dev_queue_xmit.
import { META_STRIDE, SKB, SKB_HEAD_WORDS, type FramePool } from '../../tun/index.ts';
import { HostNetError } from './errors.ts';
import type { NetDevice } from './netdev.ts';

/** The device's dev_queue_xmit, bound once: a function taking ownership of skb h. */
export function devQueueXmit(dev: NetDevice, pool: FramePool): (h: number) => void {
  const start = dev.ndo_start_xmit?.bind(dev);
  if (start === undefined) throw new HostNetError('EINVAL', `${dev.name} cannot transmit skbs`);
  const select = dev.ndo_select_queue?.bind(dev);
  const skb = pool.skb, meta = pool.meta;
  return (h) => {
    const b = h * SKB_HEAD_WORDS;
    skb[b + SKB.MAC_HEADER] = meta[META_STRIDE * h]!;
    const tc = dev.tc;
    if (tc !== undefined && tc.egressActive && !tc.sch_handle_egress(h)) return;
    skb[b + SKB.QUEUE_MAPPING] = select === undefined ? 0 : select(h);
    start(h);
  };
}
