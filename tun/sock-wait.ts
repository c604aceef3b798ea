// The wake-up the tap gives vhost: sk_data_ready -> vhost_poll_wakeup -> vhost_work_queue. The
// kernel queues the vhost work only if VHOST_WORK_QUEUED was clear (test_and_set_bit), so a burst
// of producers costs one wake-up until the worker starts its next round and clears the bit.
//
// Shared cells, in an Int32Array the caller owns (two int32 slots at indices the caller picks):
//   cells[wakeIndex]    the wake counter the vhost worker sleeps on. It follows virtio/doorbell.ts'
//                       protocol (ring = Atomics.add + Atomics.notify; waiter = arm, re-check,
//                       Atomics.wait on the armed value), so the guest's kicks can ring the same
//                       cell without the flag and one Atomics.wait covers both sources of work.
//   cells[queuedIndex]  VHOST_WORK_QUEUED: 1 from a successful wake() until the worker's
//                       clearQueued() or arm().
//   cells[sleepingIndex] TASK_INTERRUPTIBLE: 1 while the worker is inside wait(). wake() notifies
//                       only then, as wake_up_process does nothing for a task that is running:
//                       a notify costs a trip through V8's futex table, which is one lock for
//                       the whole process, and the worker is running most of the time.
// Nothing else in the array is touched.
//
// Why skipping the notify loses nothing: wait() sets the flag, then Atomics.wait compares the
// counter with the armed value. A wake() whose add lands before that compare makes the wait
// return at once; one whose add lands after it reads the flag after its add, so it sees 1 and
// notifies.
//
// The consumer clears the flag when it starts a round of work (vhost_worker clears
// VHOST_WORK_QUEUED before running the work), and arm() clears it again: a wake() that lands
// between a round's clear and the arm sets the flag and bumps the counter before arm() reads it;
// if the re-check then finds nothing (the round already took those entries) and the flag stayed
// set, every later wake() would coalesce and the worker would sleep through them all. The kernel
// is safe there because the queued work item itself tells the worker to run again.
//
// Why no wake-up is lost (arm = clear flag, read counter; then re-check; then wait): wake() runs
// after the producer published its ring index. If its load or compareExchange finds the flag set
// (both are sequentially consistent, like arm()'s store), the set came before arm()'s clear, so
// the entries are visible to the re-check that follows the clear. If it sets the flag, it bumps
// the counter, which either lands before arm() reads it (the entries were published before, so
// the re-check sees them) or after (the wait does not sleep). Either way the worker does not
// sleep, and it clears the flag again before it next does.
import { allocSharedCells, TunError } from './errors.ts';

export interface SharedSockWait {
  cells: Int32Array;
  wakeIndex: number;
  queuedIndex: number;
  sleepingIndex: number;
}

export type SockWaitResult = 'ok' | 'not-equal' | 'timed-out';

export class SockWait {
  readonly cells: Int32Array;
  readonly wakeIndex: number;
  readonly queuedIndex: number;
  readonly sleepingIndex: number;

  /** wake() calls that queued the work: counter bumped and waiters notified. */
  wakeups = 0;
  /** wake() calls that queued the work while the worker slept, and so notified it. */
  wakeups_notified = 0;
  /** wake() calls that found the work already queued (no notify). */
  wakeups_coalesced = 0;
  /** wait() calls that really slept (returned 'ok' or 'timed-out'). */
  sleeps = 0;
  /** Microseconds the producer spent inside those notifies. */
  notify_us = 0;

  constructor(shared: SharedSockWait) {
    const { cells, wakeIndex, queuedIndex, sleepingIndex } = shared ?? ({} as Partial<SharedSockWait>);
    if (!(cells instanceof Int32Array) || !(cells.buffer instanceof SharedArrayBuffer)) {
      throw new TunError('EINVAL', 'sock wait: cells must be an Int32Array on a SharedArrayBuffer');
    }
    for (const [name, i] of [['wakeIndex', wakeIndex], ['queuedIndex', queuedIndex], ['sleepingIndex', sleepingIndex]] as const) {
      if (!Number.isInteger(i) || (i as number) < 0 || (i as number) >= cells.length) {
        throw new TunError('EINVAL', `sock wait: ${name} ${String(i)} is outside the ${cells.length} cells`);
      }
    }
    if (new Set([wakeIndex, queuedIndex, sleepingIndex]).size !== 3) throw new TunError('EINVAL', 'sock wait: the wake counter, the QUEUED flag and the sleeping flag need separate cells');
    this.cells = cells;
    this.wakeIndex = wakeIndex as number;
    this.queuedIndex = queuedIndex as number;
    this.sleepingIndex = sleepingIndex as number;
  }

  /** Three fresh cells of its own; other ringers (the guest's kicks) ring cells[wakeIndex]. */
  static create(): SockWait {
    return new SockWait({ cells: allocSharedCells(3, 'sock wait'), wakeIndex: 0, queuedIndex: 1, sleepingIndex: 2 });
  }

  share(): SharedSockWait {
    return { cells: this.cells, wakeIndex: this.wakeIndex, queuedIndex: this.queuedIndex, sleepingIndex: this.sleepingIndex };
  }

  // --- producer side (tap) ---

  /** vhost_poll_queue: queue the work unless it already is; only then bump and notify. */
  wake(): boolean {
    // Look before the read-modify-write, as sock_def_readable reads the wait queue before any
    // wake-up: while the work is queued the flag's line stays shared between the two cores
    // instead of moving to the producer on every packet (Case 2 calls this once per packet).
    if (Atomics.load(this.cells, this.queuedIndex) !== 0 || Atomics.compareExchange(this.cells, this.queuedIndex, 0, 1) !== 0) {
      this.wakeups_coalesced++;
      return false;
    }
    this.wakeups++;
    Atomics.add(this.cells, this.wakeIndex, 1);
    if (Atomics.load(this.cells, this.sleepingIndex) !== 0) {
      this.wakeups_notified++;
      // Timed because this is the wake-up's whole cost to the producer (V8's futex table, then the
      // kernel's futex wake of a sleeping thread): a microsecond or more, against tens of
      // nanoseconds per packet. Two clock reads per notify, none on the common paths.
      const t0 = performance.now();
      Atomics.notify(this.cells, this.wakeIndex);
      this.notify_us += (performance.now() - t0) * 1000;
    }
    return true;
  }

  // --- consumer side (vhost worker) ---

  /** Start of a round of work, before looking at the ring: the next wake() queues again. */
  clearQueued(): void {
    Atomics.store(this.cells, this.queuedIndex, 0);
  }

  /**
   * Step 1 of sleeping: clear the flag (so the next wake() rings) and read the counter. Re-check
   * for work after this, then wait().
   */
  arm(): number {
    Atomics.store(this.cells, this.queuedIndex, 0);
    return Atomics.load(this.cells, this.wakeIndex);
  }

  /** Sleeps unless the counter moved since arm() (timeout in ms). */
  wait(armed: number, timeoutMs = Infinity): SockWaitResult {
    Atomics.store(this.cells, this.sleepingIndex, 1);
    const r = Atomics.wait(this.cells, this.wakeIndex, armed, timeoutMs);
    Atomics.store(this.cells, this.sleepingIndex, 0);
    if (r !== 'not-equal') this.sleeps++;
    return r;
  }

  /**
   * The whole consumer protocol for one sleep: arm (which clears the flag), re-check `hasWork`, wait.
   * Returns true when there is work (found by the re-check or after a wake), false on a timeout
   * with still nothing to do.
   */
  waitForWork(hasWork: () => boolean, timeoutMs = Infinity): boolean {
    for (;;) {
      const armed = this.arm();
      if (hasWork()) return true;
      if (this.wait(armed, timeoutMs) === 'timed-out') return hasWork();
    }
  }

  /** Wake-counter value (every ringer's bumps, the guest's included). */
  count(): number {
    return Atomics.load(this.cells, this.wakeIndex);
  }

  /** Whether the work is currently queued (the flag). */
  queued(): boolean {
    return Atomics.load(this.cells, this.queuedIndex) !== 0;
  }
}
