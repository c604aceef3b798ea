// Starts a TypeScript worker. A worker thread does not inherit its parent's module hooks
// (nodejs/node#47747; ts-register.mjs, which it may inherit as an --import, registers them in the
// main thread only), so the worker starts as this plain module, registers ts-hooks.mjs for itself
// and loads its .ts entry (workerData.entry, a file URL).
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
import { tsHooksData } from './ts-hooks-data.mjs';

process.setSourceMapsEnabled(true);
register('./ts-hooks.mjs', import.meta.url, { data: tsHooksData() });
await import(workerData.entry);
