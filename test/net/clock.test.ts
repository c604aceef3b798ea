// The clocks every timer in net/ reads: the virtual clock's firing order (deadline, then arming
// order), timers armed from a callback, the kernel's timer_list semantics (jiffies expiry, next
// tick for a past expiry, mod/del/reduce return values), no leaks, and the real clock firing.
import test from 'ava';
import { HZ, NSEC_PER_JIFFY, TimerList, msecs_to_jiffies, timer_pending } from '../../net/core/clock.ts';
import { NetError } from '../../net/core/errors.ts';
import { RealClock } from '../../net/core/real-clock.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';

const MS = 1_000_000;

test('timers fire in deadline order, ties in arming order, each seeing its own deadline as now', (t) => {
  const c = new VirtualClock();
  const log: string[] = [];
  const mk = (name: string): TimerList => new TimerList(() => log.push(`${name}@${c.ktime_get_ns() / MS}`));
  const a = mk('a');
  const b = mk('b');
  const x = mk('x');
  const y = mk('y');
  c.mod_timer(a, 5);
  c.mod_timer(x, 3);
  c.mod_timer(y, 3);
  c.mod_timer(b, 1);
  t.is(c.pending_count, 4);
  t.is(c.advance(2 * MS), 1, 'only b is due by 2 ms');
  t.deepEqual(log, ['b@1']);
  t.is(c.ktime_get_ns(), 2 * MS);
  c.advance(10 * MS);
  t.deepEqual(log, ['b@1', 'x@3', 'y@3', 'a@5']);
  t.is(c.ktime_get_ns(), 12 * MS);
  t.is(c.pending_count, 0);
});

test('re-arming moves a timer behind its new ties; re-arming at the same expiry keeps its place', (t) => {
  const c = new VirtualClock();
  const log: string[] = [];
  const mk = (name: string): TimerList => new TimerList(() => log.push(name));
  const [p, q, r] = [mk('p'), mk('q'), mk('r')];
  c.mod_timer(p, 4);
  c.mod_timer(q, 4);
  c.mod_timer(r, 4);
  t.true(c.mod_timer(p, 4), 'was pending');
  t.true(c.mod_timer(q, 2));
  t.true(c.mod_timer(q, 4), 'q moves behind r');
  c.advance(5 * MS);
  t.deepEqual(log, ['p', 'r', 'q']);
});

test('a timer armed by a firing timer fires in the same advance when due, not when beyond it', (t) => {
  const c = new VirtualClock();
  const seen: number[] = [];
  let chained = 0;
  const chain = new TimerList((tl) => {
    seen.push(c.get_jiffies_64());
    if (++chained < 100) c.mod_timer(tl, c.get_jiffies_64() + 10);
  });
  c.mod_timer(chain, 10);
  t.is(c.advance(35 * MS), 3);
  t.deepEqual(seen, [10, 20, 30]);
  t.true(timer_pending(chain));
  t.is(c.next_expiry_ns(), 40 * MS);
  // A timer that re-arms itself for "now" runs again at the next tick, never in place.
  const spins: number[] = [];
  const spin = new TimerList((tl) => {
    spins.push(c.get_jiffies_64());
    if (spins.length < 5) c.mod_timer(tl, c.get_jiffies_64());
  });
  c.mod_timer(spin, 36);
  c.advance(10 * MS);
  t.deepEqual(spins, [36, 37, 38, 39, 40]);
});

test('an expiry already reached fires at the next tick; add_timer on a pending timer is refused', (t) => {
  const c = new VirtualClock(7 * MS + 500_000); // jiffies 7, half way to 8
  let at = -1;
  const tl = new TimerList(() => (at = c.ktime_get_ns()));
  tl.expires = 3;
  c.add_timer(tl);
  t.is(c.next_expiry_ns(), 8 * NSEC_PER_JIFFY);
  const err = t.throws(() => c.add_timer(tl), { instanceOf: NetError });
  t.is(err?.code, 'EINVAL');
  c.advance(MS);
  t.is(at, 8 * MS);
  t.is(msecs_to_jiffies(1000), HZ);
});

test('del_timer and timer_reduce return what the kernel returns; deleted timers leave nothing behind', (t) => {
  const c = new VirtualClock();
  let fired = 0;
  const timers = Array.from({ length: 10_000 }, () => new TimerList(() => fired++));
  timers.forEach((tl, i) => c.mod_timer(tl, 1 + (i % 97)));
  t.is(c.pending_count, 10_000);
  for (const tl of timers) t.true(c.del_timer(tl));
  t.false(c.del_timer(timers[0]!), 'already deleted');
  t.is(c.pending_count, 0);
  t.true(timers.every((tl) => tl._base === null && !timer_pending(tl)));
  c.advance(1000 * MS);
  t.is(fired, 0);

  const tl = new TimerList(() => fired++);
  t.false(c.timer_reduce(tl, c.get_jiffies_64() + 50), 'not pending: armed');
  t.true(c.timer_reduce(tl, c.get_jiffies_64() + 80), 'a later expiry leaves it');
  t.is(tl.expires, c.get_jiffies_64() + 50);
  t.true(c.timer_reduce(tl, c.get_jiffies_64() + 20));
  t.is(tl.expires, c.get_jiffies_64() + 20);
  t.throws(() => c.advance(-1), { instanceOf: NetError });
  t.throws(() => c.advance_to(0), { instanceOf: NetError });
});

test('the real clock is monotonic and fires its timers from the event loop', async (t) => {
  const c = new RealClock();
  const a = c.ktime_get_ns();
  const order: string[] = [];
  const late = new TimerList(() => order.push('late'));
  const early = new TimerList(() => order.push('early'));
  const gone = new TimerList(() => order.push('gone'));
  const now = c.get_jiffies_64();
  c.mod_timer(late, now + 30);
  c.mod_timer(gone, now + 1);
  c.mod_timer(early, now + 10);
  c.del_timer(gone);
  await new Promise((r) => setTimeout(r, 80));
  t.deepEqual(order, ['early', 'late']);
  t.true(c.ktime_get_ns() - a >= 60 * MS);
  // A busy loop runs timers itself.
  const polled = new TimerList(() => order.push('polled'));
  c.mod_timer(polled, c.get_jiffies_64() + 1);
  const until = performance.now() + 5;
  while (performance.now() < until);
  t.is(c.run_timers(), 1);
  t.is(c.pending_count, 0);
  c.close();
});
