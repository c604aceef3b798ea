// Heavy dependencies load only where they are used: importing the package and `vxo --help` must
// not load vega, vega-lite (the HTML report's charts), cli-progress (the terminal's progress bar)
// or the scenario runner. Checked on the build (dist/), as a user gets it, in a child Node with a
// module-resolution hook (node:module register) that records every URL resolved, plus the CommonJS
// cache at exit (cli-progress is CommonJS and loaded with require when a bar is drawn). Controls
// show the hook does see each of them when they are used.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './support/vm.ts';

const dir = mkdtempSync(join(tmpdir(), 'vxo-loads-'));
const HOOKS = join(dir, 'hooks.mjs');
const REGISTER = join(dir, 'register.mjs');
writeFileSync(HOOKS, `import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, 'esm ' + r.url + '\\n');
  return r;
}
`);
writeFileSync(REGISTER, `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
const file = process.env.VXO_LOAD_LOG;
register(${JSON.stringify(pathToFileURL(HOOKS).href)}, { data: { file } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => { for (const k of Object.keys(cache)) appendFileSync(file, 'cjs ' + k + '\\n'); });
`);

const DIST_INDEX = pathToFileURL(join(REPO_ROOT, 'dist/index.js')).href;

test.before(() => {
  // Built by `npm test` before ava runs; built here only when there is no build at all (rebuilding
  // an existing dist/ would race the CLI tests that run from it).
  if (!existsSync(join(REPO_ROOT, 'dist/index.js')) || !existsSync(join(REPO_ROOT, 'dist/scenarios/cli/main.js'))) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (b.status !== 0) throw new Error(`npm run build failed: ${b.stdout}${b.stderr}`);
  }
});

let n = 0;
/** The modules a child Node loaded: resolved URLs and CommonJS cache entries, one per line. */
function loads(args: string[]): { status: number | null; stdout: string; stderr: string; loaded: string[] } {
  const log = join(dir, `load-${n++}.log`);
  writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(REGISTER).href, ...args], {
    cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, VXO_LOAD_LOG: log }, timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const HEAVY: [string, RegExp][] = [
  ['vega', /\/node_modules\/vega\//],
  ['vega-lite', /\/node_modules\/vega-lite\//],
  ['cli-progress', /\/node_modules\/cli-progress\//],
  ['the scenario runner', /\/scenarios\/run\/run-case\.js$/],
];

function heavyIn(loaded: readonly string[]): string[] {
  return HEAVY.filter(([, re]) => loaded.some((u) => re.test(u))).map(([name]) => name);
}

test('import of the package loads none of them', (t) => {
  const r = loads(['--input-type=module', '-e', `const m = await import(${JSON.stringify(DIST_INDEX)}); if (typeof m.runScenario !== 'function') process.exit(3);`]);
  t.is(r.status, 0, r.stderr);
  t.true(r.loaded.some((u) => u.endsWith('/dist/index.js')), 'the hook saw the package itself');
  t.deepEqual(heavyIn(r.loaded), []);
});

test('vxo --help loads none of them', (t) => {
  const r = loads([join(REPO_ROOT, 'bin/vxo.js'), '--help']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Usage: vxo/);
  t.true(r.loaded.some((u) => u.endsWith('/dist/scenarios/cli/main.js')));
  t.deepEqual(heavyIn(r.loaded), []);
});

test('vxo run --help and vxo table --help load none of them either', (t) => {
  for (const cmd of ['run', 'table']) {
    const r = loads([join(REPO_ROOT, 'bin/vxo.js'), cmd, '--help']);
    t.is(r.status, 0, r.stderr);
    t.deepEqual(heavyIn(r.loaded), [], cmd);
  }
});

test('the report layer without an HTML report or a terminal: no vega, no cli-progress', (t) => {
  const report = pathToFileURL(join(REPO_ROOT, 'dist/scenarios/report/index.js')).href;
  const r = loads(['--input-type=module', '-e', `
    const m = await import(${JSON.stringify(report)});
    const p = m.createProgress({ cells: 1, repeat: 1, stream: { isTTY: false, write: () => true } });
    p.start(0, 0, '1/xdp1/native'); p.done(1); p.stop();`]);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(heavyIn(r.loaded), []);
});

test('controls: the hook does see vega and vega-lite when a chart is drawn, cli-progress when a bar is', (t) => {
  const report = pathToFileURL(join(REPO_ROOT, 'dist/scenarios/report/index.js')).href;
  const r = loads(['--input-type=module', '-e', `
    const m = await import(${JSON.stringify(report)});
    const svg = await m.renderSvg({ data: { values: [{ x: 1 }] }, mark: 'bar', encoding: { x: { field: 'x', type: 'quantitative' } } });
    if (!svg.includes('<svg')) process.exit(3);
    const p = m.createProgress({ cells: 1, repeat: 1, stream: { isTTY: true, columns: 80, write: () => true } });
    p.start(0, 0, '1/xdp1/native'); p.stop();`]);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(heavyIn(r.loaded), ['vega', 'vega-lite', 'cli-progress']);
});
