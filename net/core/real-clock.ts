// The monotonic clock scenarios run on: time is performance.now() since the clock was made, and one
// Node timer stands for the whole timer base, set for the earliest deadline. mod_timer on every ACK
// (the retransmission timer) then costs a heap update, not a clearTimeout/setTimeout pair: the Node
// timer is moved only when the earliest deadline moves earlier, and when it fires early (the timer
// it was set for was deleted or pushed back) it runs nothing and re-arms for the new first one.
//
// A worker that spins (busy polling) does not return to the event loop, so it calls run_timers()
// from its loop, as the kernel runs the timer softirq between packets.
import { TimerClock } from './timer-base.ts';
import { NSEC_PER_MSEC } from './clock.ts';

export interface RealClockOptions {
  /**
   * Whether a pending timer keeps Node running. Off by default: a machine's TIME_WAIT timer should
   * not hold a finished scenario open for a minute.
   */
  ref?: boolean;
}

export class RealClock extends TimerClock {
  private readonly origin = performance.now();
  private readonly ref: boolean;
  private node_timer: ReturnType<typeof setTimeout> | undefined;
  private node_deadline = Infinity;

  constructor(options: RealClockOptions = {}) {
    super();
    this.ref = options.ref ?? false;
  }

  ktime_get_ns(): number {
    return Math.floor((performance.now() - this.origin) * NSEC_PER_MSEC);
  }

  /** Fires every timer due now (run_timer_softirq); returns how many fired. */
  run_timers(): number {
    let fired = 0;
    for (;;) {
      const timer = this.base.pop_due(this.ktime_get_ns());
      if (timer === undefined) break;
      fired++;
      timer.function(timer);
    }
    this.reschedule();
    return fired;
  }

  /** Drops the Node timer (pending kernel timers stay pending and fire on run_timers()). */
  close(): void {
    if (this.node_timer !== undefined) clearTimeout(this.node_timer);
    this.node_timer = undefined;
    this.node_deadline = Infinity;
  }

  protected first_changed(): void {
    const first = this.base.first();
    if (first !== undefined && first._deadline < this.node_deadline) this.schedule(first._deadline);
  }

  private reschedule(): void {
    const first = this.base.first();
    if (first === undefined) this.close();
    else if (first._deadline !== this.node_deadline) this.schedule(first._deadline);
  }

  private schedule(deadline: number): void {
    if (this.node_timer !== undefined) clearTimeout(this.node_timer);
    const delay_ms = Math.max(0, Math.ceil((deadline - this.ktime_get_ns()) / NSEC_PER_MSEC));
    this.node_deadline = deadline;
    this.node_timer = setTimeout(() => {
      this.node_timer = undefined;
      this.node_deadline = Infinity;
      this.run_timers();
    }, delay_ms);
    if (!this.ref) this.node_timer.unref();
  }
}
