// The devmap's per-CPU bulk queue (kernel/bpf/devmap.c, struct xdp_dev_bulk_queue): frames
// XDP_REDIRECTed to one device collect here and go out through its ndo_xdp_xmit 16 at a time,
// and whatever is left goes at the end of the NAPI poll (xdp_do_flush). That is why a redirected
// stream reaches the tap in batches, with one wake-up per batch.
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

  constructor(readonly dev: NetDevice, readonly xmit: (frames: Uint32Array, n: number) => number) {}

  /** bq_enqueue: a full queue goes out first. */
  enqueue(h: number): void {
    if (this.count === DEV_MAP_BULK_SIZE) this.flush();
    this.q[this.count++] = h;
  }

  /** bq_xmit_all. */
  flush(): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    this.flushes++;
    this.frames += n;
    this.sent += this.xmit(this.q, n);
  }
}
