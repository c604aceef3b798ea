// A mutex in one Int32 slot of a SharedArrayBuffer, for map writers in different workers.
//
// The futex mutex of Drepper's "Futexes Are Tricky" (mutex3): 0 = free, 1 = held, 2 = held and
// someone may be sleeping. The uncontended path is one compareExchange to take and one exchange to
// release; only a release that finds 2 pays for Atomics.notify. Hold times are well under a
// microsecond while a sleep/wake round trip costs about 100 us, so a contender spins briefly
// before it sleeps. Atomics.wait is allowed on Node's main thread too, so every worker (and the
// main thread) can take the same lock.

const FREE = 0;
const HELD = 1;
const CONTENDED = 2;

/** Spins (each an Atomics.load, ~5-15 ns) before sleeping: a few microseconds. */
const SPINS = 200;

/**
 * How long a contender waits before giving up. Holders keep the lock for well under a microsecond,
 * but a holder can be descheduled or stopped by its garbage collector inside the critical section
 * (hundreds of milliseconds on a loaded 2-core machine: 250 ms was seen to expire there); a lock
 * held a whole second belongs to a worker that died holding it: waiting longer would hang every
 * other worker (the host must never hang on a guest's map), so the caller gets an error.
 */
export const LOCK_TIMEOUT_MS = 1000;

/** Takes the lock; false when it stayed held for LOCK_TIMEOUT_MS (its holder is presumed dead). */
export function lockAcquire(word: Int32Array, index: number): boolean {
  if (Atomics.compareExchange(word, index, FREE, HELD) === FREE) return true;
  return lockSlow(word, index);
}

function lockSlow(word: Int32Array, index: number): boolean {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(word, index) === FREE && Atomics.compareExchange(word, index, FREE, HELD) === FREE) return true;
  }
  // Announce a sleeper before sleeping, so the holder's release knows to notify. Whoever takes the
  // lock from here on marks it CONTENDED: we cannot know whether other sleepers remain.
  const deadline = performance.now() + LOCK_TIMEOUT_MS;
  let c = Atomics.exchange(word, index, CONTENDED);
  while (c !== FREE) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    Atomics.wait(word, index, CONTENDED, left);
    c = Atomics.exchange(word, index, CONTENDED);
  }
  return true;
}

export function lockRelease(word: Int32Array, index: number): void {
  if (Atomics.exchange(word, index, FREE) === CONTENDED) Atomics.notify(word, index, 1);
}
