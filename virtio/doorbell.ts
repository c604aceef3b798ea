// Doorbells: the kick (driver -> device, like an ioeventfd) and the interrupt (device -> driver,
// like an irqfd), each an Int32 counter in a SharedArrayBuffer with Atomics.wait/notify.
//
// The protocol, which never loses a wake-up:
//   notifier: make the work visible (e.g. publish the ring index), decide it must notify
//             (kickPrepare/shouldNotify), then ring(): Atomics.add(counter, 1), Atomics.notify.
//   waiter:   armed = arm()             read the counter
//             if (work visible) go work  re-check the ring AFTER arming
//             wait(armed)                Atomics.wait(counter, armed): sleeps only while the
//                                        counter still equals `armed`
// A ring() that lands after arm() changes the counter, so the wait returns at once ('not-equal')
// or is woken ('ok'); a ring() before arm() came after the work was published, so the re-check
// sees the work. Sleeping on a value read before the re-check is what closes the window between
// "nothing to do" and "go to sleep". (The ring's own enable-then-recheck, see
// DeviceQueue.enableNotify and DriverQueue.enableCb, makes sure the peer rings at all.)
// Waking is always spurious-safe: a waiter that finds no work arms and waits again.

/** What another worker needs to open the same doorbell. */
import { sharedCells } from './shared-cells.ts';

export interface SharedDoorbell {
  cells: Int32Array;
  index: number;
}

export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

export class Doorbell {
  readonly cells: Int32Array;
  readonly index: number;
  /** ring() calls made through this handle (per thread: counters are not shared). */
  rings = 0;
  /** wait() calls that really slept (returned 'ok' or 'timed-out'). */
  sleeps = 0;

  constructor(shared: SharedDoorbell) {
    if (!(shared.cells.buffer instanceof SharedArrayBuffer)) throw new TypeError('a doorbell needs a SharedArrayBuffer');
    this.cells = shared.cells;
    this.index = shared.index;
  }

  /** A fresh doorbell in a cell of its own (shared-cells.ts: no false sharing with other cells). */
  static create(): Doorbell {
    return new Doorbell({ cells: sharedCells(1), index: 0 });
  }

  share(): SharedDoorbell {
    return { cells: this.cells, index: this.index };
  }

  /** Notifies: bump the counter (so an armed waiter cannot sleep through it), then wake waiters. */
  ring(): void {
    this.rings++;
    Atomics.add(this.cells, this.index, 1);
    Atomics.notify(this.cells, this.index);
  }

  /** Step 1 of waiting: read the counter. Re-check the ring after this, then call wait(). */
  arm(): number {
    return Atomics.load(this.cells, this.index);
  }

  /**
   * Step 3: sleep unless the counter moved since arm() (timeout in ms; Infinity by default).
   * Node allows Atomics.wait on the main thread too; it blocks that thread's event loop.
   */
  wait(armed: number, timeoutMs = Infinity): WaitResult {
    const r = Atomics.wait(this.cells, this.index, armed, timeoutMs);
    if (r !== 'not-equal') this.sleeps++;
    return r;
  }

  /** Total rings ever made on this doorbell, by every thread. */
  count(): number {
    return Atomics.load(this.cells, this.index);
  }

  /**
   * The whole waiter protocol: returns true as soon as `ready()` holds (checked after arming),
   * false if it still does not hold when a wait times out.
   */
  waitUntil(ready: () => boolean, timeoutMs = Infinity): boolean {
    for (;;) {
      const armed = this.arm();
      if (ready()) return true;
      if (this.wait(armed, timeoutMs) === 'timed-out') return ready();
    }
  }
}
