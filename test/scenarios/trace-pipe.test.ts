// A worker's bpf_trace_printk lines on their way to the runner: at most N a second per worker,
// the rest counted and reported; formatted as trace_pipe lines. Driven with a fake clock, in one
// thread (the end-to-end path is in cli-run.test.ts).
import test from 'ava';
import { formatTraceLine } from '../../scenarios/run/trace-lines.ts';
import { WorkerSet } from '../../scenarios/run/worker-set.ts';
import { TRACE_LINES_PER_SEC, TracePipe, type TraceMessage } from '../../virtio/trace-pipe.ts';

function pipe(maxPerSec: number): { p: TracePipe; out: TraceMessage[]; at: (ms: number) => void } {
  const out: TraceMessage[] = [];
  let now = 0;
  const p = new TracePipe({ worker: 'guest', tid: 4242, post: (m) => out.push(m), maxPerSec, t0: 0, clock: () => now });
  return { p, out, at: (ms) => { now = ms; } };
}

test('at most maxPerSec lines a second; the rest counted, reported when the window closes and at flush', (t) => {
  const { p, out, at } = pipe(3);
  for (let i = 0; i < 10; i++) { at(i * 10); p.sink(`line ${i}\n`); }
  t.deepEqual(out.map((m) => ('text' in m ? m.text : m.suppressed)), ['line 0', 'line 1', 'line 2'], 'the trailing newline is the line\'s end, not part of it');
  at(1000); // a new window: first the count of the last one, then the line
  p.sink('line 10');
  t.deepEqual(out.slice(3).map((m) => ('text' in m ? m.text : m.suppressed)), [7, 'line 10']);
  for (let i = 0; i < 5; i++) p.sink('more');
  p.flush();
  p.flush();
  t.deepEqual(out.slice(5).map((m) => ('text' in m ? m.text : m.suppressed)), ['more', 'more', 3]);
  t.is(p.forwarded, 6);
  t.is(p.suppressedTotal, 10);
  t.like(out[0], { type: 'trace', worker: 'guest', tid: 4242, cpu: 0, ts: 0 });
  t.is(out[4]!.ts, 1);
});

test('a million calls in a second stay a bounded number of messages', (t) => {
  const { p, out, at } = pipe(TRACE_LINES_PER_SEC);
  for (let i = 0; i < 1_000_000; i++) { at(i / 1000); p.sink('x'); }
  p.flush();
  t.is(out.length, TRACE_LINES_PER_SEC + 1);
  t.deepEqual(out.at(-1), { type: 'trace', worker: 'guest', tid: 4242, cpu: 0, ts: 0.999999, suppressed: 1_000_000 - TRACE_LINES_PER_SEC });
});

test('forWorker: no setup, no pipe (the programs keep the engine\'s no-op sink)', (t) => {
  t.is(TracePipe.forWorker(undefined, 'vhost', 1, () => {}), undefined);
  t.true(TracePipe.forWorker({ t0: 0 }, 'vhost', 1, () => {}) instanceof TracePipe);
});

test('trace_pipe\'s shape: task-pid, [cpu], flags, seconds, bpf_trace_printk: text', (t) => {
  t.is(formatTraceLine({ type: 'trace', worker: 'guest', tid: 19543, cpu: 0, ts: 3.0998581, text: 'vxo-trace len=60' }, 100),
    '           guest-19543   [000] .....     3.099858: bpf_trace_printk: vxo-trace len=60');
  t.is(formatTraceLine({ type: 'trace', worker: 'vhost', tid: undefined, cpu: 1, ts: 12, suppressed: 5 }, 100),
    '           vhost-0       [001] .....    12.000000: vxo: 5 bpf_trace_printk lines suppressed (at most 100 a second per worker)');
});

test('WorkerSet hands trace messages to onTrace and nothing else', (t) => {
  const set = new WorkerSet();
  const seen: TraceMessage[] = [];
  set.onTrace = (m) => seen.push(m);
  // A stand-in for a Worker: only its 'message' listener matters here.
  const listeners = new Map<string, (m: unknown) => void>();
  const fake = { on: (ev: string, f: (m: unknown) => void) => { listeners.set(ev, f); return fake; } };
  set.add('guest', fake as never);
  const msg: TraceMessage = { type: 'trace', worker: 'guest', tid: 1, cpu: 0, ts: 0.5, text: 'hi' };
  listeners.get('message')!(msg);
  t.deepEqual(seen, [msg]);
  t.is(set.error, undefined);
});
