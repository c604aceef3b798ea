// QEMU -> vhost control requests (vhost_net_start/stop, TUNSETOFFLOADEDXDP): a message on the
// worker's port, then a flag and a ring so the vhost worker, which sleeps on shared memory and
// not on its event loop, looks at the port. Control plane only: packets never go this way.
import type { MessagePort } from 'node:worker_threads';
import type { Doorbell } from '../../virtio/index.ts';

/** Index of the "message pending" cell in vhost's control cells (VHOST_CTL.MSG). */
export const VHOST_CTL_MSG = 1;

export class VhostChannel {
  sent = 0;
  constructor(private readonly port: MessagePort, private readonly wake: Doorbell, private readonly ctl: Int32Array) {}

  send(msg: unknown): void {
    this.port.postMessage(msg);
    Atomics.store(this.ctl, VHOST_CTL_MSG, 1);
    this.wake.ring();
    this.sent++;
  }
}
