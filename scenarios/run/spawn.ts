// Spawning vxo's workers (the guest, QEMU, vhost and host threads). Built (dist/*.js), an entry is
// plain JavaScript and starts as it is. From the TypeScript sources (tests, `npm start`), it starts
// through ts-worker-boot.mjs: a worker thread has its own module loader, without its parent's hooks
// (nodejs/node#47747), so it boots as a plain module that registers the TypeScript hooks and loads
// the .ts entry.
//
// That boot costs about twice the CPU of the built worker's (every scenario run starts four), so
// `npm test`, which has just built dist/, sets VXO_WORKERS=dist: a worker of the sources then
// starts from the build when the build is fresh and has it (worker-build.ts). A stale or missing
// build is not used: the workers start from the sources, with one warning on stderr saying why.
import { Worker, type TransferListItem } from 'node:worker_threads';
import { WorkerBuild } from './worker-build.ts';

const BUILT = import.meta.url.endsWith('.js');
const BOOT = new URL('./ts-worker-boot.mjs', import.meta.url);

/** The environment variable `npm test` sets, and its one value. */
export const WORKERS_ENV = 'VXO_WORKERS';
export const WORKERS_FROM_DIST = 'dist';

let build: WorkerBuild | undefined;

/**
 * The worker whose entry is `entry` (a file URL, written with its .ts name in the sources) with
 * `data` as its workerData.
 */
export function spawnWorkerAt(entry: URL, data: Record<string, unknown>, transferList: TransferListItem[] = [], name?: string): Worker {
  const opts = { transferList, ...(name ? { name } : {}) };
  if (BUILT) return new Worker(new URL(entry.href.replace(/\.ts$/, '.js')), { workerData: data, ...opts });
  const built = process.env[WORKERS_ENV] === WORKERS_FROM_DIST ? fromBuild(entry, data) : undefined;
  if (built) return new Worker(built.entry, { workerData: built.data, ...opts });
  return new Worker(BOOT, { workerData: { ...data, entry: entry.href }, ...opts });
}

/**
 * A module a worker will import by URL (a stack setup module): its .ts file from the sources, its
 * .js file from the build, as spawnWorkerAt's entries.
 */
export function moduleHref(url: URL): string {
  return BUILT ? url.href.replace(/\.ts$/, '.js') : url.href;
}

function fromBuild(entry: URL, data: Record<string, unknown>): ReturnType<WorkerBuild['start']> {
  if (build === undefined) {
    build = new WorkerBuild(new URL('../../', import.meta.url));
    const why = build.unusable();
    if (why !== undefined) process.stderr.write(`vxo: ${WORKERS_ENV}=${WORKERS_FROM_DIST} but ${why}: workers start from the sources\n`);
  }
  return build.start(entry, data);
}
