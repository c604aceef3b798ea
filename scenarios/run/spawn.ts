// Spawning vxo's TypeScript workers (the guest, QEMU, vhost and host threads) from a .ts entry.
import { Worker, type TransferListItem } from 'node:worker_threads';

const BOOT = new URL('./ts-worker-boot.mjs', import.meta.url);

/** Starts the worker whose entry is `entry` (a file URL) with `data` as its workerData. */
export function spawnTsWorkerAt(entry: URL, data: Record<string, unknown>, transferList: TransferListItem[] = [], name?: string): Worker {
  return new Worker(BOOT, { workerData: { ...data, entry: entry.href }, transferList, ...(name ? { name } : {}) });
}
