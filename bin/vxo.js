#!/usr/bin/env node
// The vxo command. It runs the JavaScript build (dist/), made by `npm run build`, which `npm install`
// from git or a path and `npm pack` run through `prepare`; no TypeScript loader is involved.
try {
  await import('../dist/scenarios/cli/main.js');
} catch (e) {
  if (e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/scenarios/cli/main.js')) {
    process.stderr.write('vxo is not built: run `npm run build` in its folder (or `npm start` to run it from the sources)\n');
    process.exitCode = 2;
  } else {
    throw e;
  }
}
