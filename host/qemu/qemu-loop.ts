// QEMU's main loop for one virtio-net device, reduced to what vxo's device does: wake on the
// device's doorbell (an MMIO trap from the guest or a control-queue kick), answer register
// accesses, answer control commands, interrupt the guest when the control queue asks for it.
// The data queues never come here: they belong to vhost from DRIVER_OK on.
import { Doorbell, MmioTrapServer, type SharedMmioTrap, type ShmCounters } from '../../virtio/index.ts';
import type { VirtioNet } from './virtio-net.ts';

export const QEMU_CTL = { STOP: 0 } as const;

export class QemuLoop {
  readonly trap: MmioTrapServer;
  readonly stats = { wakeups: 0, mmio_traps: 0, ctrl_interrupts: 0 };
  /** Where counters are published for the scenario runner to read live. */
  shm: ShmCounters | undefined;

  constructor(
    readonly dev: VirtioNet,
    trap: SharedMmioTrap,
    private readonly kick: Doorbell,
    private readonly guestIrq: Doorbell,
    private readonly ctl: Int32Array,
    /** More counters to publish with the loop's (the tap probe's refusals), flat and already prefixed. */
    private readonly extraCounters?: () => Record<string, number>,
  ) {
    this.trap = new MmioTrapServer(trap);
  }

  /** Serves everything pending; true if anything was done. */
  runOnce(): boolean {
    let did = false;
    while (this.trap.service(this.dev)) { this.stats.mmio_traps++; did = true; }
    const before = this.dev.stats.ctrl_commands;
    if (this.dev.handleCtrl()) { this.stats.ctrl_interrupts++; this.guestIrq.ring(); }
    if (this.dev.stats.ctrl_commands !== before) did = true;
    return did;
  }

  run(maxSleepMs = 50): void {
    while (Atomics.load(this.ctl, QEMU_CTL.STOP) === 0) {
      const armed = this.kick.arm();
      if (this.runOnce()) { if (this.shm?.due()) this.publish(); continue; }
      if (this.kick.wait(armed, maxSleepMs) === 'ok') this.stats.wakeups++;
    }
    this.publish();
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.stats)) out[`qemu_${k}`] = v;
    for (const [k, v] of Object.entries(this.dev.stats)) out[`qemu_${k}`] = v;
    if (this.extraCounters) for (const [k, v] of Object.entries(this.extraCounters())) out[`qemu_${k}`] = v;
    return out;
  }

  publish(): void {
    this.shm?.publish(this.counters());
  }
}
