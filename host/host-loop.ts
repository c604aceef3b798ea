// The host worker's loop: NAPI polls of the NIC (pktgen on the wire) until told to stop. With a
// rate cap, pktgen hands out less than a budget when it is ahead of schedule; the loop then sleeps
// until the next packet is due instead of spinning, so a capped host leaves the CPU to the others.
import { CpuProbe, type ShmCounters } from '../virtio/index.ts';
import type { SockWait } from '../tun/index.ts';
import type { HostNet } from './net/index.ts';
import type { HostStack } from './net/host-stack.ts';

export const HOST_CTL = {
  STOP: 0,
  /** The start line: the loop waits until it is non-zero (set by the runner, then notified). */
  GO: 1,
} as const;

export interface HostLoopOptions {
  /** The host's network stack: its timers and applications run every round. */
  stack?: HostStack;
  /**
   * The wake-up vhost rings after queueing frames on the backlog (HostNet.backlog's SockWait):
   * an idle loop sleeps on it instead of spinning.
   */
  wait?: SockWait;
  /** Longest idle sleep with a backlog or a stack, ms (bounds how late a stop is seen). Default 50. */
  maxSleepMs?: number;
}

export class HostLoop {
  readonly stats = { polls: 0, idle_polls: 0, pacing_sleeps: 0, backlog_frames: 0, idle_sleeps: 0 };
  shm: ShmCounters | undefined;
  /** How fast this thread's CPU runs, timed now and then as counters are published. */
  readonly probe = new CpuProbe();
  private readonly stack: HostStack | undefined;
  private readonly wait: SockWait | undefined;
  private readonly maxSleepMs: number;

  constructor(readonly net: HostNet, private readonly ctl: Int32Array, private readonly publishEvery = 64, opts: HostLoopOptions = {}) {
    this.stack = opts.stack;
    this.wait = opts.wait;
    this.maxSleepMs = opts.maxSleepMs ?? 50;
  }

  run(): void {
    const ctl = this.ctl;
    while (Atomics.load(ctl, HOST_CTL.GO) === 0 && Atomics.load(ctl, HOST_CTL.STOP) === 0) Atomics.wait(ctl, HOST_CTL.GO, 0, 50);
    if (this.stack !== undefined || this.net.backlog !== undefined) {
      this.runMachine();
      return;
    }
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

  /**
   * The loop of a host with a stack or a backlog: every round polls the NIC (if it has a wire),
   * takes the guest's frames off the backlog, runs the stack's timers and applications; when none
   * of them had work it sleeps on the backlog's wake-up (re-checking after arming, as vhost does),
   * until pktgen's next frame is due, or at most a jiffy while timers are pending.
   */
  private runMachine(): void {
    const ctl = this.ctl, net = this.net, stack = this.stack, wait = this.wait, s = this.stats;
    const pktgen = net.pktgen;
    const paced = net.wire && pktgen.rate > 0;
    while (Atomics.load(ctl, HOST_CTL.STOP) === 0) {
      wait?.clearQueued();
      const n = net.poll();
      const b = net.process_backlog();
      const w = stack === undefined ? 0 : stack.run();
      s.polls++;
      s.backlog_frames += b;
      if (s.polls % this.publishEvery === 0 && this.shm?.due()) {
        this.probe.maybeRun();
        this.publish();
      }
      if (n + b + w !== 0) continue;
      s.idle_polls++;
      let timeout = this.maxSleepMs;
      if (net.wire && !pktgen.done) {
        // An unpaced pktgen only idles when done; a paced one sleeps until its next frame.
        if (!paced) continue;
        timeout = Math.min(timeout, Math.max(0.02, pktgen.msUntilNext()));
      }
      if (stack?.timersPending()) timeout = Math.min(timeout, 1);
      s.idle_sleeps++;
      // Before sleeping, as GuestLoop does: a mostly idle host would otherwise show stale counters.
      if (this.shm?.due()) this.publish();
      if (wait === undefined) {
        if (!net.rxPending()) Atomics.wait(ctl, HOST_CTL.STOP, 0, timeout);
        continue;
      }
      const armed = wait.arm();
      if (net.rxPending() || Atomics.load(ctl, HOST_CTL.STOP) !== 0) continue;
      wait.wait(armed, timeout);
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
    const b = this.net.backlog;
    if (b !== undefined) Object.assign(out, { hostbl_processed: b.processed, hostbl_batches: b.batches });
    if (this.stack !== undefined) for (const [k, v] of Object.entries(this.stack.counters())) out[`host_${k}`] = v;
    return out;
  }

  publish(): void {
    this.shm?.publish(this.counters());
  }
}
