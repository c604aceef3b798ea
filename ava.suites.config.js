// ava config for `npm run test:suites`: a short run of every cell of the experiments suites
// (`vxo table --suite ...`) through the four workers, checking each cell's counters and
// conservation. Each worker start costs seconds of CPU, so these runs stay out of `npm test`
// (which keeps each suite's layout, renderers and a cell or two); CI runs them after it.
// Child processes, as ava.kernel.config.js explains (the TypeScript loader in forked workers).
export default {
  files: ['test/suite-cells/**/*.test.ts'],
  extensions: { ts: 'module' },
  require: ['./scenarios/run/ts-register.mjs'],
  workerThreads: false,
  concurrency: 1,
  timeout: '10m',
};
