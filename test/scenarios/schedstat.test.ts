// Where the CPU went: the schedstat reader, the window arithmetic, and a real worker thread whose
// busy time the runner sees from outside under the task id the worker reports.
import test from 'ava';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { parseSchedstat, readTasks, threadUse, type Schedstat } from '../../scenarios/run/schedstat.ts';
import { threadSelfId } from '../../virtio/index.ts';
import { machineUse, parseProcStat, readCpuTimes } from '../../scenarios/run/proc-stat.ts';

const PROCFS = existsSync('/proc/thread-self/schedstat');
const procTest = PROCFS ? test : test.skip;
if (!PROCFS) console.log('schedstat: skipping the live tests: no /proc/thread-self/schedstat on this system');

test('a schedstat line is run ns, wait ns, slices; anything else is no line', (t) => {
  t.deepEqual(parseSchedstat('14549726 859623 5\n'), { runNs: 14549726, waitNs: 859623, slices: 5 });
  t.is(parseSchedstat(''), undefined);
  t.is(parseSchedstat('1 2'), undefined);
  t.is(parseSchedstat('1 x 3'), undefined);
  t.is(parseSchedstat('1 -2 3'), undefined);
});

const s = (runNs: number, waitNs = 0): Schedstat => ({ runNs, waitNs, slices: 1 });

test('threadUse: shares of one core over the window, the whole process in cores', (t) => {
  const before = new Map([[10, s(1e9, 5e8)], [11, s(0)], [12, s(3e9)]]);
  const after = new Map([[10, s(1.5e9, 7e8)], [11, s(1e8)], [13, s(2e8)]]);
  const u = threadUse({ host: 10, vhost: 11, guest: 12, qemu: undefined }, before, after, 0.5);
  t.is(u['cpu_host'], 1);
  t.is(u['runq_wait_host'], 0.4);
  t.is(u['cpu_vhost'], 0.2);
  t.false('cpu_guest' in u, 'a task that ended in the window has no figures');
  t.false('cpu_qemu' in u, 'nor one without a task id');
  // 10 and 11 as above, 13 born in the window counts from zero: 0.5 + 0.1 + 0.2 s over 0.5 s.
  t.is(u['cpu_all'], 1.6);
  // A wait the kernel adds when it ends may have begun before the window: at most all of it.
  const late = threadUse({ host: 10 }, before, new Map([[10, s(1.2e9, 1.2e9)]]), 0.5);
  t.is(late['runq_wait_host'], 1);
  t.deepEqual(threadUse({ host: 10 }, before, new Map(), 0.5), {}, 'no procfs: nothing');
  t.deepEqual(threadUse({ host: 10 }, before, after, 0), {}, 'an empty window: nothing');
});

procTest('the main thread is a task of the process, under its pid', (t) => {
  t.is(threadSelfId(), process.pid);
  t.true(readTasks().has(process.pid));
});

procTest('a worker reports its own task id and the runner sees its busy time', async (t) => {
  // The worker spins until its own schedstat shows 50 ms on a CPU, however loaded the machine is.
  const code = `
    const { parentPort } = require('node:worker_threads');
    const { readFileSync, readlinkSync } = require('node:fs');
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    parentPort.postMessage({ tid });
    // A listener stays on the port, so the thread lives until terminate() (the runner reads its
    // figures after it reports).
    parentPort.on('message', () => {
      const run = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
      const start = run();
      let x = 0;
      while (run() - start < 50e6) for (let i = 0; i < 1e5; i++) x += i;
      parentPort.postMessage({ done: x > 0 });
    });`;
  const w = new Worker(code, { eval: true });
  try {
    const { tid } = await new Promise<{ tid: number }>((r) => w.once('message', r));
    t.not(tid, process.pid);
    const before = readTasks();
    t.true(before.has(tid), 'the worker is a task of this process');
    const t0 = performance.now();
    w.postMessage('go');
    await new Promise((r) => w.once('message', r));
    const after = readTasks();
    const seconds = (performance.now() - t0) / 1000;
    const u = threadUse({ worker: tid }, before, after, seconds);
    t.true((u['cpu_worker'] ?? 0) * seconds >= 0.05, `the worker (task ${tid}, seen before ${before.has(tid)}, after ${after.has(tid)}) had 50 ms on a CPU: ${JSON.stringify(u)}`);
    t.true((u['cpu_all'] ?? 0) >= (u['cpu_worker'] ?? 0));
  } finally {
    await w.terminate();
  }
});

test('/proc/stat: the machine\'s busy and steal ticks; the rest of the machine and steal over a window, in cores', (t) => {
  const text = 'cpu  100 5 40 900 3 2 1 7 0 0\ncpu0 50 2 20 450 1 1 0 3 0 0\nintr 1\n';
  t.deepEqual(parseProcStat(text), { busy: 148, steal: 7 });
  t.is(parseProcStat('intr 1\n'), undefined);
  t.is(parseProcStat('cpu  1 2 x 4 5 6 7 8\n'), undefined);
  const a = { busy: 1000, steal: 10 };
  const b = { busy: 1000 + 360, steal: 10 + 20 };
  // 3.6 s of busy CPU in 2 s is 1.8 cores, of which the run used 1.5; 0.2 s of steal is 0.1 core.
  const u = machineUse(a, b, 2, 1.5);
  t.is(Math.round(u['cpu_other']! * 100), 30);
  t.is(u['cpu_steal'], 0.1);
  t.is(machineUse(a, b, 2, 1.9)['cpu_other'], 0, 'never below zero: the clocks tick differently');
  t.deepEqual(machineUse(undefined, b, 2, 1), {});
  t.deepEqual(machineUse(a, b, 2, undefined), {});
});

procTest('/proc/stat is read on this machine', (t) => {
  const c = readCpuTimes();
  t.truthy(c);
  t.true(c!.busy > 0);
});
