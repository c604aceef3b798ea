// The worker a lookup-cost cell runs in (sk-lookup-cost.ts runLookupCostIsolated): a fresh V8
// isolate per measurement, so the type feedback one flood's lookups leave in the shared lookup
// functions (IPv4 rigs, then IPv6 ones, in one thread) cannot slow another's rigs unevenly.
import { parentPort, workerData } from 'node:worker_threads';
import { runLookupCost, type LookupCostJob } from './sk-lookup-cost.ts';

const job = workerData as LookupCostJob;
try {
  parentPort?.postMessage({ ok: true, run: runLookupCost(job.flood, job.config, job.engine, job.object, job.inits) });
} catch (e) {
  parentPort?.postMessage({ ok: false, message: (e as Error).message });
}
