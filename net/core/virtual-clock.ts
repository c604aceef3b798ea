// A clock for tests and packetdrill scripts: time stands still until advance() moves it, and then
// every timer due by the new time fires, in deadline order, ties in the order they were armed. A
// callback sees the clock at its own deadline, and a timer it arms that falls due before the end
// of the advance fires in the same call, as it would have in real time.
import { TimerClock } from './timer-base.ts';
import { NetError } from './errors.ts';

export class VirtualClock extends TimerClock {
  private now: number;

  constructor(start_ns = 0) {
    super();
    this.now = start_ns;
  }

  ktime_get_ns(): number {
    return this.now;
  }

  protected first_changed(): void {}

  /** Moves time forward by `ns`, firing due timers; returns how many fired. */
  advance(ns: number): number {
    if (!(ns >= 0) || !Number.isFinite(ns)) throw new NetError('EINVAL', `advance: ${ns} ns is not a finite, non-negative duration`);
    return this.advance_to(this.now + ns);
  }

  /** Moves time to `t` (not before now), firing due timers; returns how many fired. */
  advance_to(t: number): number {
    if (!(t >= this.now)) throw new NetError('EINVAL', `advance_to: ${t} ns is before now (${this.now} ns)`);
    let fired = 0;
    for (;;) {
      const timer = this.base.pop_due(t);
      if (timer === undefined) break;
      if (timer._deadline > this.now) this.now = timer._deadline;
      fired++;
      timer.function(timer);
    }
    this.now = t;
    return fired;
  }
}
