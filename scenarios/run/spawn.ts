// Spawning vxo's workers (the guest, QEMU, vhost and host threads). Built (dist/*.js), an entry is
// plain JavaScript and starts as it is. From the TypeScript sources (tests, `npm start`), it starts
// under tsx: on Node 20, `execArgv: ['--import', 'tsx']` does not reach a worker thread's module
// loader (nodejs/node#47747), so the worker boots as a plain module that loads the .ts entry.
import { Worker, type TransferListItem } from 'node:worker_threads';

const BUILT = import.meta.url.endsWith('.js');
const BOOT = new URL('./ts-worker-boot.mjs', import.meta.url);

/**
 * The worker whose entry is `entry` (a file URL, written with its .ts name in the sources) with
 * `data` as its workerData.
 */
export function spawnWorkerAt(entry: URL, data: Record<string, unknown>, transferList: TransferListItem[] = [], name?: string): Worker {
  const opts = { transferList, ...(name ? { name } : {}) };
  if (BUILT) return new Worker(new URL(entry.href.replace(/\.ts$/, '.js')), { workerData: data, ...opts });
  return new Worker(BOOT, { workerData: { ...data, entry: entry.href }, ...opts });
}

/**
 * A module a worker will import by URL (a stack setup module): its .ts file from the sources, its
 * .js file from the build, as spawnWorkerAt's entries.
 */
export function moduleHref(url: URL): string {
  return BUILT ? url.href.replace(/\.ts$/, '.js') : url.href;
}
