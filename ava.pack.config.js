// ava config for `npm run test:pack`: the package as npm users get it. `npm pack` (which builds
// through `prepare`), the tarball installed into a scratch project, and there plain Node, a
// TypeScript check with a default `tsc --init` config, the vxo command and a scenario run.
// Separate from `npm test` because it packs and installs (about half a minute).
export default {
  files: ['test/pack/**/*.test.ts'],
  extensions: { ts: 'module' },
  require: ['./scenarios/run/ts-register.mjs'],
  workerThreads: false,
  timeout: '5m',
};
