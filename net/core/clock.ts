// Time as the stack reads it. Every timer in net/ (retransmission, delayed ACK, TIME_WAIT, the
// SYN cookie counter) goes through a Clock, so a scenario runs on the real monotonic clock and a
// test or a packetdrill script on a virtual one that moves only when told (virtual-clock.ts).
//
// Timers follow include/linux/timer.h: a TimerList names its callback once (timer_setup), is armed
// with an expiry in jiffies (add_timer, mod_timer), and is disarmed by del_timer. As on a kernel
// with HZ=1000, a jiffy is a millisecond, a timer fires at the first tick at or after its expiry,
// and one armed for a jiffy that has already come fires at the next tick. So a deadline is always
// later than the time it was armed at, and a timer that re-arms itself cannot spin in place.
import type { TimerBase } from './timer-base.ts';

export const HZ = 1000;
export const NSEC_PER_SEC = 1_000_000_000;
export const NSEC_PER_MSEC = 1_000_000;
export const NSEC_PER_JIFFY = NSEC_PER_SEC / HZ;

export function msecs_to_jiffies(ms: number): number {
  return Math.ceil((ms * HZ) / 1000);
}

export function jiffies_to_msecs(j: number): number {
  return (j * 1000) / HZ;
}

export type TimerFn = (timer: TimerList) => void;

/** struct timer_list. Pending while it sits in a clock's timer base. */
export class TimerList {
  /** The callback, named as the kernel's field is. */
  function: TimerFn;
  /** Expiry in jiffies, as set by the last add_timer/mod_timer. */
  expires = 0;
  /** @internal The tick (ns) it fires at; the base's heap key. */
  _deadline = 0;
  /** @internal Arming order, the tie-break for equal deadlines. */
  _seq = 0;
  /** @internal Heap slot, -1 when not pending. */
  _index = -1;
  /** @internal The base it is pending on. */
  _base: TimerBase | null = null;

  /** timer_setup(timer, fn, 0). */
  constructor(fn: TimerFn) {
    this.function = fn;
  }
}

export function timer_pending(timer: TimerList): boolean {
  return timer._index >= 0;
}

export interface Clock {
  /** ktime_get_ns(): monotonic nanoseconds since this clock started. */
  ktime_get_ns(): number;
  /** get_jiffies_64(): whole jiffies since this clock started. */
  get_jiffies_64(): number;
  /** Arms a timer that is not pending at timer.expires (the kernel BUG()s on a pending one). */
  add_timer(timer: TimerList): void;
  /** (Re)arms at `expires`; true if the timer was pending. */
  mod_timer(timer: TimerList, expires: number): boolean;
  /** Arms at `expires` unless pending with an earlier expiry; true if it was pending. */
  timer_reduce(timer: TimerList, expires: number): boolean;
  /** Disarms; true if the timer was pending. A deleted timer keeps no reference in the clock. */
  del_timer(timer: TimerList): boolean;
}
