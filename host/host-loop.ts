// The host worker's loop: NAPI polls of the NIC (pktgen on the wire) until told to stop. With a
// rate cap, pktgen hands out less than a budget when it is ahead of schedule; the loop then sleeps
// until the next packet is due instead of spinning, so a capped host leaves the CPU to the others.
import { CpuProbe, type ShmCounters } from '../virtio/index.ts';
import type { HostNet } from './net/index.ts';

export const HOST_CTL = {
  STOP: 0,
  /** The start line: the loop waits until it is non-zero (set by the runner, then notified). */
  GO: 1,
} as const;

export class HostLoop {
  readonly stats = { polls: 0, idle_polls: 0, pacing_sleeps: 0 };
  shm: ShmCounters | undefined;
  /** How fast this thread's CPU runs, timed now and then as counters are published. */
  readonly probe = new CpuProbe();

  constructor(readonly net: HostNet, private readonly ctl: Int32Array, private readonly publishEvery = 64) {}

  run(): void {
    const ctl = this.ctl;
    while (Atomics.load(ctl, HOST_CTL.GO) === 0 && Atomics.load(ctl, HOST_CTL.STOP) === 0) Atomics.wait(ctl, HOST_CTL.GO, 0, 50);
    const paced = this.net.pktgen.rate > 0;
    while (Atomics.load(ctl, HOST_CTL.STOP) === 0) {
      const n = this.net.poll();
      this.stats.polls++;
      if (n === 0) {
        this.stats.idle_polls++;
        if (this.net.pktgen.done) break;
        if (paced) {
          // Ahead of the line rate: sleep until the next frame is due (at least ~20 us).
          this.stats.pacing_sleeps++;
          Atomics.wait(ctl, HOST_CTL.STOP, 0, Math.max(0.02, this.net.pktgen.msUntilNext()));
        }
      }
      if (this.stats.polls % this.publishEvery === 0 && this.shm?.due()) {
        this.probe.maybeRun();
        this.publish();
      }
    }
    this.publish();
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.stats)) out[`host_${k}`] = v;
    out['host_probe_us'] = this.probe.us;
    out['host_probes'] = this.probe.runs;
    const s = this.net.stats() as unknown as Record<string, Record<string, unknown> | undefined>;
    for (const [part, rec] of Object.entries(s)) {
      if (!rec) continue;
      for (const [k, v] of Object.entries(rec)) if (typeof v === 'number') out[`${part === 'tap' ? 'tapx' : part}_${k}`] = v;
    }
    return out;
  }

  publish(): void {
    this.shm?.publish(this.counters());
  }
}
