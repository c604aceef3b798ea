// Starts a TypeScript worker under tsx. On Node 20, `execArgv: ['--import', 'tsx']` does not reach
// a worker thread's module loader (nodejs/node#47747), so the worker starts as this plain module
// and loads its .ts entry (workerData.entry, a file URL) through tsx's API.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
