// The devmap's per-CPU bulk queue (kernel/bpf/devmap.c, struct xdp_dev_bulk_queue): frames
// XDP_REDIRECTed to one device collect here and go out through its ndo_xdp_xmit 16 at a time
// (bq_enqueue: flags 0), and whatever is left goes at the end of the NAPI poll with
// XDP_XMIT_FLUSH (xdp_do_flush, __dev_flush). That is why a redirected stream reaches the tap in
// batches, with one wake-up per poll.
import { XDP_XMIT } from '../../tun/index.ts';
import type { NetDevice } from './netdev.ts';

export const DEV_MAP_BULK_SIZE = 16;

export class XdpBulkQueue {
  readonly q = new Uint32Array(DEV_MAP_BULK_SIZE);
  count = 0;
  /** On the poll's flush list (bq->flush_node linked). */
  listed = false;
  /** ndo_xdp_xmit calls, frames handed over, frames the device accepted. */
  flushes = 0;
  frames = 0;
  sent = 0;

  constructor(readonly dev: NetDevice, readonly xmit: (frames: Uint32Array, n: number, flags: number) => number) {}

  /** bq_enqueue: a full queue goes out first, without a flush. */
  enqueue(h: number): void {
    if (this.count === DEV_MAP_BULK_SIZE) this.xmitAll(0);
    this.q[this.count++] = h;
  }

  /** __dev_flush's part: what is left goes out, and the device is told to flush. */
  flush(): void {
    this.xmitAll(XDP_XMIT.XDP_XMIT_FLUSH);
  }

  /** bq_xmit_all. */
  private xmitAll(flags: number): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    this.flushes++;
    this.frames += n;
    this.sent += this.xmit(this.q, n, flags);
  }
}
