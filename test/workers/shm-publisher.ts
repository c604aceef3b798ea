// A worker that publishes pairs of counters that always agree (a = b = n, c = 2n), as fast as it
// can, until the test sets the stop cell: the reader's snapshots must never mix two publications.
import { parentPort, workerData } from 'node:worker_threads';
import { ShmCounters, type SharedCounters } from '../../virtio/shm-counters.ts';
import { waitForStart } from './spawn.ts';

const { shared, control } = workerData as { shared: SharedCounters; control: Int32Array };
const shm = new ShmCounters(shared);
const rec: Record<string, number> = {};
parentPort!.postMessage('ready');
waitForStart(control);
let n = 0;
while (Atomics.load(control, 1) === 0) {
  n++;
  for (const name of shm.names) rec[name] = name === 'c' ? 2 * n : n;
  shm.publish(rec);
}
parentPort!.postMessage(n);
