// struct timer_base: the pending timers of one clock, and the add/mod/del semantics both clocks
// share. A binary heap ordered by (deadline, arming order) replaces the kernel's timer wheel: the
// order timers fire in is what a test can observe, and it is fully determined here (deadline
// first, then the order they were last armed in), with O(log n) arming and deletion. A deleted
// or fired timer leaves the heap at once, so the base holds only pending timers.
import { NSEC_PER_JIFFY, type Clock, type TimerList } from './clock.ts';
import { NetError } from './errors.ts';

export class TimerBase {
  private readonly heap: TimerList[] = [];
  private seq = 0;

  get pending_count(): number {
    return this.heap.length;
  }

  /** The timer that fires next, if any. */
  first(): TimerList | undefined {
    return this.heap[0];
  }

  enqueue(t: TimerList, deadline: number): void {
    t._deadline = deadline;
    t._seq = ++this.seq;
    t._base = this;
    t._index = this.heap.length;
    this.heap.push(t);
    this.up(t._index);
  }

  /** Removes a pending timer; false if it is not pending here. */
  dequeue(t: TimerList): boolean {
    if (t._base !== this || t._index < 0) return false;
    const i = t._index;
    const last = this.heap.pop()!;
    if (last !== t) {
      this.heap[i] = last;
      last._index = i;
      this.down(i);
      this.up(last._index);
    }
    t._index = -1;
    t._base = null;
    return true;
  }

  /** Takes the first timer off the heap if its deadline is at or before `now`. */
  pop_due(now: number): TimerList | undefined {
    const t = this.heap[0];
    if (t === undefined || t._deadline > now) return undefined;
    this.dequeue(t);
    return t;
  }

  private before(a: TimerList, b: TimerList): boolean {
    return a._deadline < b._deadline || (a._deadline === b._deadline && a._seq < b._seq);
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.before(t, parent)) break;
      h[i] = parent;
      parent._index = i;
      i = p;
    }
    h[i] = t;
    t._index = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.before(h[r]!, h[l]!)) c = r;
      const child = h[c]!;
      if (!this.before(child, t)) break;
      h[i] = child;
      child._index = i;
      i = c;
    }
    h[i] = t;
    t._index = i;
  }
}

/** The timer semantics of both clocks; a subclass supplies the time and reacts to a new first timer. */
export abstract class TimerClock implements Clock {
  protected readonly base = new TimerBase();

  abstract ktime_get_ns(): number;

  /** Called when the earliest deadline may have moved earlier (a real clock reschedules). */
  protected abstract first_changed(): void;

  get_jiffies_64(): number {
    return Math.floor(this.ktime_get_ns() / NSEC_PER_JIFFY);
  }

  /** Timers pending on this clock. */
  get pending_count(): number {
    return this.base.pending_count;
  }

  /** The deadline (ns of this clock) of the next pending timer, if any: how long a loop may sleep. */
  next_expiry_ns(): number | undefined {
    return this.base.first()?._deadline;
  }

  /** The tick (ns) a timer armed now for `expires` fires at: never at or before now. */
  protected deadline_of(expires: number): number {
    const now = this.ktime_get_ns();
    const at = expires * NSEC_PER_JIFFY;
    return at > now ? at : (Math.floor(now / NSEC_PER_JIFFY) + 1) * NSEC_PER_JIFFY;
  }

  add_timer(timer: TimerList): void {
    if (timer._index >= 0) throw new NetError('EINVAL', 'add_timer: the timer is already pending');
    this.arm(timer, timer.expires);
  }

  mod_timer(timer: TimerList, expires: number): boolean {
    // As __mod_timer: re-arming at the same expiry keeps the timer's place among its ties.
    if (timer._index >= 0 && timer._base === this.base && timer.expires === expires) return true;
    const was = timer._base !== null && timer._base.dequeue(timer);
    this.arm(timer, expires);
    return was;
  }

  timer_reduce(timer: TimerList, expires: number): boolean {
    if (timer._index >= 0 && timer._base === this.base && timer.expires <= expires) return true;
    return this.mod_timer(timer, expires);
  }

  del_timer(timer: TimerList): boolean {
    return timer._base !== null && timer._base.dequeue(timer);
  }

  private arm(timer: TimerList, expires: number): void {
    timer.expires = expires;
    this.base.enqueue(timer, this.deadline_of(expires));
    if (this.base.first() === timer) this.first_changed();
  }
}
