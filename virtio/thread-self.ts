// The calling thread's kernel task id, from /proc/thread-self (Linux 3.17 and later). Each worker
// reports it as it becomes ready, so the scenario runner can read that thread's scheduler
// statistics (/proc/<pid>/task/<tid>/schedstat) and show where the CPU went in a run: which thread
// was busy, and which waited for a core. Undefined where there is no procfs.
import { readlinkSync } from 'node:fs';

export function threadSelfId(): number | undefined {
  try {
    const m = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}
