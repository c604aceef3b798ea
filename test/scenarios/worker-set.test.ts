// The run's threads as a group (scenarios/run/worker-set.ts): a worker that throws, exits or
// never gets ready stops the run within a second with an error naming it, and terminateAll()
// ends every thread, even one spinning or asleep in Atomics.wait. Small eval workers stand in for
// the real ones, so the time of the failure is known to the millisecond. Serial: the last test
// counts the process's threads.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { WorkerFailed, WorkerSet } from '../../scenarios/run/worker-set.ts';

function threads(): number {
  return Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
}

/** An eval worker (CommonJS) with `at`, a Float64Array on shared memory, to write when it failed. */
function worker(body: string, at: Float64Array): Worker {
  return new Worker(`const { parentPort, workerData } = require('node:worker_threads'); const at = workerData.at; ${body}`, {
    eval: true, workerData: { at },
  });
}

/** Resolves with the set's failure, or undefined after `ms` (the timer is cleared either way). */
async function failure(set: WorkerSet, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([set.failed, new Promise<undefined>((r) => { timer = setTimeout(() => r(undefined), ms); })]).catch((e: unknown) => e);
  } finally {
    clearTimeout(timer);
  }
}

const stamp = (): Float64Array => new Float64Array(new SharedArrayBuffer(8));

test.serial('a worker that throws in the middle of a run: WorkerFailed with its name and error within a second', async (t) => {
  const set = new WorkerSet();
  const at = stamp();
  set.add('idle', worker(`parentPort.postMessage({ type: 'ready' }); setInterval(() => {}, 1000);`, at));
  set.add('vhost', worker(`parentPort.postMessage({ type: 'ready' }); setTimeout(() => { at[0] = Date.now(); throw new Error('ring index out of range'); }, 300);`, at));
  try {
    await set.ready('idle');
    await set.ready('vhost');
    const e = await failure(set, 30_000);
    const lag = Date.now() - at[0]!;
    t.true(e instanceof WorkerFailed);
    t.is((e as WorkerFailed).worker, 'vhost');
    t.is((e as WorkerFailed).message, 'vhost worker failed: ring index out of range');
    t.is(set.error, e as WorkerFailed);
    // Reported by the worker's error event, not by a timeout (which would take 30 s here).
    t.true(at[0]! > 0);
    t.log(`reported ${lag} ms after the throw`);
  } finally {
    await set.terminateAll();
  }
});

test.serial('a worker that exits with a non-zero code, or posts an error, fails the run', async (t) => {
  for (const [body, message] of [
    [`parentPort.postMessage({ type: 'ready' }); setTimeout(() => { at[0] = Date.now(); process.exit(3); }, 200);`, 'guest worker failed: exited with code 3'],
    [`parentPort.postMessage({ type: 'ready' }); setTimeout(() => { at[0] = Date.now(); parentPort.postMessage({ type: 'error', message: 'probe: ENODEV' }); }, 200); setInterval(() => {}, 1000);`, 'guest worker failed: probe: ENODEV'],
  ] as const) {
    const set = new WorkerSet();
    const at = stamp();
    set.add('guest', worker(body, at));
    try {
      await set.ready('guest');
      const e = await failure(set, 30_000);
      t.true(e instanceof WorkerFailed, String(e));
      t.is((e as Error).message, message);
      t.log(`reported ${Date.now() - at[0]!} ms after the worker's exit or message`);
    } finally {
      await set.terminateAll();
    }
  }
});

test.serial('a worker that never gets ready times out with its name; terminateAll ends spinning and sleeping threads', async (t) => {
  const before = threads();
  const set = new WorkerSet();
  const at = stamp();
  set.add('host', worker(`for (;;) {}`, at));
  set.add('qemu', worker(`parentPort.postMessage({ type: 'ready' }); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);`, at));
  await set.ready('qemu');
  t.true(threads() >= before + 2);
  const e = await t.throwsAsync(set.ready('host', 300), { instanceOf: WorkerFailed });
  t.is(e?.worker, 'host');
  t.regex(e?.message ?? '', /host worker did not get ready within 300 ms/);
  // And one told to stop that never posts done.
  const d = await t.throwsAsync(set.done('qemu', 200), { instanceOf: WorkerFailed });
  t.regex(d?.message ?? '', /qemu worker did not stop within 200 ms/);
  await set.terminateAll();
  for (let i = 0; i < 20 && threads() !== before; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(threads(), before);
});

// A clean exit before 'ready' or 'done' is a failure too, reported at once rather than at the
// ready (20 s) or done (5 s) timeout.
test.serial('a worker that exits cleanly before it is ready fails the run at once', async (t) => {
  const set = new WorkerSet();
  set.add('guest', worker(`/* returns at once: exit code 0, no ready */`, stamp()));
  try {
    // The ready timeout is 20 s: a failure well before it came from the exit itself.
    const e = await failure(set, 10_000);
    t.true(e instanceof WorkerFailed, 'no failure within 10 s');
    t.regex((e as Error).message, /^guest worker failed: exited/);
  } finally {
    await set.terminateAll();
  }
});
