// The guest's run loop, what the guest CPU does between interrupts (net_rx_action plus idle):
// NAPI-poll until the driver reports 'done' (callbacks re-enabled), then arm the interrupt
// doorbell, re-check the rx used ring (a buffer that landed after the re-enable may have rung
// before the arm) and sleep until the device interrupts. The sleep has a timeout so a stop
// request is seen even on an idle link. A class so tests can drive rounds in one thread.
import { CpuProbe, type Doorbell, type ShmCounters } from '../../virtio/index.ts';
import { VIRTNET_STAT_NAMES } from './stats.ts';
import { NAPI, NAPI_POLL_WEIGHT, type VirtnetDriver } from './virtnet.ts';
import type { LoopStack } from './stack.ts';

export interface GuestLoopOptions {
  /** The interrupt doorbell the device rings (the guest sleeps on it). */
  irq: Doorbell;
  /** Stop when stop[0] !== 0 (read once per round with Atomics.load). */
  stop: Int32Array;
  /** Where the counters go for a live reader; published every `publishEvery` polls and before each sleep. */
  counters?: ShmCounters;
  publishEvery?: number;
  /** Longest sleep, ms (bounds how late a stop request is seen on an idle link). Default 50. */
  waitMs?: number;
  /** Frames per poll. Default NAPI_POLL_WEIGHT (64). */
  budget?: number;
  /**
   * Polls per round before the stop cell is looked at again, like net_rx_action's netdev_budget
   * (300 frames): under continuous traffic the driver never reports 'done'. Default 8.
   */
  pollsPerRound?: number;
  /**
   * The guest's network stack (GuestStack), if it has one: every round runs its timers and
   * applications before NAPI, a round where they worked does not sleep, and with timers pending
   * the loop sleeps at most a jiffy (1 ms) so they fire on time.
   */
  stack?: LoopStack;
}

export class GuestLoopStats {
  loop_rounds = 0;
  /** Waits on the interrupt doorbell. */
  loop_sleeps = 0;
  /** Waits ended by an interrupt (the doorbell rang after the arm). */
  loop_wakes = 0;
  /** Waits that timed out. */
  loop_timeouts = 0;
  /** Times the re-check after arming found work and the sleep was skipped. */
  loop_rechecks = 0;
  /** The CPU probe (virtio/cpu-probe.ts): microseconds it took, and how many ran. */
  probe_us = 0;
  probes = 0;
}

/** Every name the guest publishes: the driver's counters then the loop's. */
export const GUEST_STAT_NAMES: readonly string[] = [...VIRTNET_STAT_NAMES, ...Object.keys(new GuestLoopStats())];

export class GuestLoop {
  readonly stats = new GuestLoopStats();
  private readonly irq: Doorbell;
  private readonly stop: Int32Array;
  private readonly counters: ShmCounters | undefined;
  private readonly publishEvery: number;
  private readonly waitMs: number;
  private readonly budget: number;
  private readonly pollsPerRound: number;
  private sincePublish = 0;
  private readonly probe = new CpuProbe();
  private readonly stack: LoopStack | undefined;

  constructor(readonly driver: VirtnetDriver, opts: GuestLoopOptions) {
    this.irq = opts.irq;
    this.stop = opts.stop;
    this.counters = opts.counters;
    this.publishEvery = Math.max(1, opts.publishEvery ?? 16);
    this.waitMs = opts.waitMs ?? 50;
    this.budget = opts.budget ?? NAPI_POLL_WEIGHT;
    this.pollsPerRound = Math.max(1, opts.pollsPerRound ?? 8);
    this.stack = opts.stack;
  }

  get stopped(): boolean {
    return Atomics.load(this.stop, 0) !== 0;
  }

  /** Rounds until the stop cell is set; the counters are published one last time on the way out. */
  run(): void {
    while (!this.stopped) this.round();
    this.publish();
  }

  /** Polls until 'done' (or pollsPerRound polls), then sleeps unless the re-check finds work. */
  round(): void {
    this.stats.loop_rounds++;
    const driver = this.driver;
    const stackWork = this.stack === undefined ? 0 : this.stack.run();
    for (let i = 0; i < this.pollsPerRound; i++) {
      const r = driver.virtnet_poll(this.budget);
      if (++this.sincePublish >= this.publishEvery && this.due()) this.publish();
      if (r === NAPI.DONE) {
        // The stack again after NAPI (NET_TX_SOFTIRQ, the applications): what the poll delivered
        // or woke (a queue restarted by completions, a socket with data) is work before any sleep.
        const after = this.stack === undefined ? 0 : this.stack.run();
        if (stackWork === 0 && after === 0) this.idle();
        return;
      }
    }
  }

  private idle(): void {
    const s = this.stats;
    const armed = this.irq.arm();
    if (this.driver.virtqueue_poll()) {
      s.loop_rechecks++;
      return;
    }
    s.loop_sleeps++;
    if (this.due()) this.publish();
    const waitMs = this.stack !== undefined && this.stack.timersPending() ? Math.min(1, this.waitMs) : this.waitMs;
    if (this.irq.wait(armed, waitMs) === 'timed-out') s.loop_timeouts++;
    else s.loop_wakes++;
  }

  /** The driver's counters and the loop's, as one flat record. */
  counterRecord(): Record<string, number> {
    return { ...this.driver.virtnet_get_stats(), ...this.stats, ...(this.stack?.counters() ?? {}) };
  }

  /** Whether a live reader should get fresh counters now (ShmCounters.due: at most every 2 ms). */
  private due(): boolean {
    return this.counters?.due() ?? false;
  }

  publish(): void {
    this.sincePublish = 0;
    this.probe.maybeRun();
    this.stats.probe_us = this.probe.us;
    this.stats.probes = this.probe.runs;
    this.counters?.publish(this.counterRecord());
  }
}
