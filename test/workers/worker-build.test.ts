// scenarios/run/worker-build.ts on a made-up package in a temporary directory: when a worker of the
// sources may start from dist/ (npm test's VXO_WORKERS=dist), with its data's module URLs mapped,
// and when not (a stale or missing build, a test's own module that is never built).
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkerBuild } from '../../scenarios/run/worker-build.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:01:00Z');

/** A package with `files` (path -> mtime), each an empty file; its root URL. */
function pkg(files: Record<string, Date>): { root: URL; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-worker-build-'));
  for (const [p, when] of Object.entries(files)) {
    const f = join(dir, p);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, '');
    utimesSync(f, when, when);
  }
  return { root: pathToFileURL(`${dir}/`), dir };
}

const BUILT_TREE = {
  'guest/worker.ts': T0, 'dist/guest/worker.js': T1,
  'scenarios/stack/guest-setup.ts': T0, 'dist/scenarios/stack/guest-setup.js': T1,
  'test/workers/app.ts': T0,
};

test('a fresh build: the entry and the source modules named in the data come from dist/, the rest as given', (t) => {
  const { root, dir } = pkg(BUILT_TREE);
  t.teardown(() => rmSync(dir, { recursive: true }));
  const b = new WorkerBuild(root);
  t.is(b.unusable(), undefined);
  const shared = new SharedArrayBuffer(8);
  const setup = new URL('scenarios/stack/guest-setup.ts', root).href;
  const s = b.start(new URL('guest/worker.ts', root), { mem: shared, net: { setup, seed: 1, list: [setup, 'x.ts'] }, label: 'a.ts' });
  t.is(s?.entry.href, new URL('dist/guest/worker.js', root).href);
  const net = s?.data['net'] as { setup: string; seed: number; list: string[] };
  t.is(net.setup, new URL('dist/scenarios/stack/guest-setup.js', root).href);
  t.deepEqual(net.list, [net.setup, 'x.ts'], 'inside arrays too; a string that is not a module URL is left');
  t.is(net.seed, 1);
  t.is(s?.data['label'], 'a.ts');
  t.is(s?.data['mem'], shared, 'shared memory passes as it is (not copied)');
});

test('what has no build keeps the sources: a test\'s own entry, or a test\'s module in the data', (t) => {
  const { root, dir } = pkg(BUILT_TREE);
  t.teardown(() => rmSync(dir, { recursive: true }));
  const b = new WorkerBuild(root);
  t.is(b.start(new URL('test/workers/app.ts', root), {}), undefined);
  t.is(b.start(new URL('guest/worker.ts', root), { net: { setup: new URL('test/workers/app.ts', root).href } }), undefined);
});

test('a source newer than its build makes the whole build unusable, and says which', (t) => {
  const { root, dir } = pkg({ ...BUILT_TREE, 'scenarios/stack/guest-setup.ts': new Date('2026-01-01T00:02:00Z') });
  t.teardown(() => rmSync(dir, { recursive: true }));
  const b = new WorkerBuild(root);
  t.is(b.unusable(), `${join('scenarios', 'stack', 'guest-setup.ts')} is newer than its build in dist/`);
  t.is(b.start(new URL('guest/worker.ts', root), {}), undefined, 'even a worker whose own files are current');
});

test('no dist/ at all: unusable; a leftover .js whose source is gone is no reason to refuse', (t) => {
  const none = pkg({ 'guest/worker.ts': T0 });
  t.teardown(() => rmSync(none.dir, { recursive: true }));
  t.is(new WorkerBuild(none.root).unusable(), 'dist/ does not exist');
  t.is(new WorkerBuild(none.root).start(new URL('guest/worker.ts', none.root), {}), undefined);
  const leftover = pkg({ ...BUILT_TREE, 'dist/guest/old.js': T0 });
  t.teardown(() => rmSync(leftover.dir, { recursive: true }));
  t.is(new WorkerBuild(leftover.root).unusable(), undefined);
});
