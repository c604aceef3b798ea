// Spawning the TypeScript workers of the tests, and the start line they all wait behind.
import type { Worker } from 'node:worker_threads';
import { spawnWorkerAt } from '../../scenarios/run/spawn.ts';

/** Starts test/workers/<name>.ts with `data` as its workerData (plus the entry URL). */
export function spawnTsWorker(name: string, data: Record<string, unknown>): Worker {
  return spawnWorkerAt(new URL(`./${name}.ts`, import.meta.url), data);
}

/** Resolves with the worker's first message; rejects if it fails or exits first. */
export function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: T): void => { cleanup(); resolve(m); };
    const onError = (e: Error): void => { cleanup(); reject(e); };
    const onExit = (code: number): void => { cleanup(); reject(new Error(`worker exited with code ${code}`)); };
    const cleanup = (): void => {
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
  });
}

/**
 * A start line in shared memory: workers report ready, then block until the test opens it, so
 * that their loops really overlap instead of running one after the other as they boot.
 */
export function waitForStart(gate: Int32Array): void {
  while (Atomics.load(gate, 0) === 0) Atomics.wait(gate, 0, 0);
}

export function openStart(gate: Int32Array): void {
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
}
