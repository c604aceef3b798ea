// This process loads .ts modules through ts-hooks.mjs from here on: the tests' processes, where
// ava imports this before each test file (package.json's ava.require, and the ava.*.config.js
// files), after its own modules, which so load without the hooks' round trips (0.1 CPU-s a file
// less than `node --import` of this). Also usable as `node --import=./scenarios/run/ts-register.mjs`.
// In a worker thread (which may inherit that --import) it does nothing, so that a worker that needs
// no TypeScript (one built in dist/) starts no hooks thread; ts-worker-boot.mjs registers the hooks
// in the workers that do.
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { tsHooksData } from './ts-hooks-data.mjs';

if (isMainThread) {
  process.setSourceMapsEnabled(true);
  register('./ts-hooks.mjs', import.meta.url, { data: tsHooksData() });
}
