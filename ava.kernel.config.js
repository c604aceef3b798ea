// ava config for `npm run test:kernel`: tests that need the real kernel (root, bpftool, clang);
// each skips with its reason on machines without one. Same TypeScript setup as package.json's
// ava block, but in child processes: with this file as --config, ava 6's worker threads came up
// without the tsx loader (ERR_UNKNOWN_FILE_EXTENSION for .ts), while forked workers honour
// nodeArguments. The kernel tests spawn bpftool anyway, so a process per file costs nothing.
export default {
  files: ['test/kernel/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '5m',
};
