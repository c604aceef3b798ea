// ava config for `npm run test:kernel`: tests that need the real kernel (root, bpftool, clang);
// each skips with its reason on machines without one. Same TypeScript setup as package.json's
// ava block: scenarios/run/ts-register.mjs, which ava imports before each test file, in child
// processes (its hooks go on a process's main thread, not on ava's worker threads). The kernel
// tests spawn bpftool anyway, so a process per file costs nothing.
export default {
  files: ['test/kernel/**/*.test.ts'],
  extensions: { ts: 'module' },
  require: ['./scenarios/run/ts-register.mjs'],
  workerThreads: false,
  timeout: '5m',
};
