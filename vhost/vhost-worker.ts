// vhost_worker: the kernel thread that runs vhost_net's handlers. It sleeps on one wait
// counter that the guest's kicks (ioeventfd), the tap's wake-ups (sk_data_ready, coalesced by
// the QUEUED flag) and QEMU's control requests all bump; it never sleeps while work is visible.
// With a busy-poll budget (VHOST_SET_VRING_BUSYLOOP_TIMEOUT, QEMU's poll-us) it spins that long
// for new work before it re-enables notifications and sleeps.
import { CpuProbe, type ShmCounters } from '../virtio/index.ts';
import { emptyVhostNetStats, type VhostNet } from './vhost-net.ts';

/** The worker's shared control cells. */
export const VHOST_CTL = {
  /** Non-zero: leave the loop. */
  STOP: 0,
  /** Non-zero: a control message waits on the worker's port. */
  MSG: 1,
} as const;

export interface VhostWorkerOptions {
  /** Busy-poll budget in microseconds before sleeping (0: sleep at once). */
  pollUs?: number;
  /** Longest single sleep, so a stop request is seen even if nobody rings (ms). */
  maxSleepMs?: number;
  /** Clears the tap's QUEUED flag (the vhost_work bit) as a round of work starts. */
  clearQueued?: () => void;
  /** More counters to publish with the worker's (the tap's, kept on this thread). */
  extraCounters?: () => Record<string, number>;
  /** Handles pending control messages (attach/detach programs, queue changes). */
  onControl?: () => void;
}

export class VhostWorker {
  /** Where counters are published for the scenario runner to read live. */
  shm: ShmCounters | undefined;
  /** How fast this thread's CPU runs, timed now and then as counters are published. */
  readonly probe = new CpuProbe();
  readonly stats = { loops: 0, sleeps: 0, wakeups: 0, busy_polls: 0, busy_poll_hits: 0, busy_poll_us: 0 };
  private readonly pollMs: number;
  private readonly maxSleepMs: number;

  constructor(
    private net: VhostNet | undefined,
    /** Where the worker sleeps: arm() must also clear the tap's QUEUED flag (see tun/sock-wait.ts). */
    private readonly wake: { arm(): number; wait(armed: number, timeoutMs: number): string },
    private readonly ctl: Int32Array,
    private readonly opts: VhostWorkerOptions = {},
  ) {
    this.pollMs = (opts.pollUs ?? 0) / 1000;
    this.maxSleepMs = opts.maxSleepMs ?? 50;
  }

  /** Binds (or unbinds) the queue pair, e.g. when QEMU starts or resets the device. */
  setNet(net: VhostNet | undefined): void {
    this.net = net;
  }

  /** One round: control messages, then tx and rx. Returns the packets moved. */
  runOnce(): number {
    if (Atomics.load(this.ctl, VHOST_CTL.MSG) !== 0) {
      Atomics.store(this.ctl, VHOST_CTL.MSG, 0);
      this.opts.onControl?.();
    }
    this.opts.clearQueued?.();
    const net = this.net;
    if (!net) return 0;
    return net.handleTx() + net.handleRx();
  }

  /** The loop, until STOP. */
  run(): void {
    const ctl = this.ctl;
    while (Atomics.load(ctl, VHOST_CTL.STOP) === 0) {
      this.stats.loops++;
      if (this.runOnce() > 0) {
        if ((this.stats.loops & 63) === 0 && this.shm?.due()) this.publish();
        continue;
      }
      const net = this.net;
      if (net && this.pollMs > 0 && this.busyPoll(net)) continue;
      if (net?.enableNotify()) continue;
      const armed = this.wake.arm();
      if (net?.hasWork() || Atomics.load(ctl, VHOST_CTL.MSG) !== 0 || Atomics.load(ctl, VHOST_CTL.STOP) !== 0) continue;
      if (this.shm?.due()) this.publish();
      this.stats.sleeps++;
      if (this.wake.wait(armed, this.maxSleepMs) === 'ok') this.stats.wakeups++;
    }
    this.publish();
  }

  /** vhost_net_busy_poll: spin up to poll-us for work, notifications still off. */
  private busyPoll(net: VhostNet): boolean {
    this.stats.busy_polls++;
    const t0 = performance.now();
    const end = t0 + this.pollMs;
    let now = t0;
    let hit = false;
    while (now < end) {
      if (net.hasWork() || Atomics.load(this.ctl, VHOST_CTL.MSG) !== 0 || Atomics.load(this.ctl, VHOST_CTL.STOP) !== 0) { hit = true; break; }
      now = performance.now();
    }
    this.stats.busy_poll_us += (now - t0) * 1000;
    if (hit) this.stats.busy_poll_hits++;
    return hit;
  }

  /** Every counter of the worker and its queue pair, flat. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.stats)) out[`vhost_${k}`] = v;
    out['vhost_probe_us'] = this.probe.us;
    out['vhost_probes'] = this.probe.runs;
    for (const [k, v] of Object.entries(this.net?.stats ?? emptyVhostNetStats())) out[`vhost_${k}`] = v;
    if (this.opts.extraCounters) Object.assign(out, this.opts.extraCounters());
    return out;
  }

  publish(): void {
    this.probe.maybeRun();
    this.shm?.publish(this.counters());
  }
}
