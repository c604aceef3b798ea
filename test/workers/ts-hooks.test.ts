// scenarios/run/ts-register.mjs and ts-hooks.mjs, the TypeScript loader of the tests' processes and
// workers, on scratch files in a child Node: a changed file is transformed again (the cache is keyed
// by text, not trusted by name), imports keep tsc's verbatimModuleSyntax meaning, and a stack trace
// names the .ts line although the transform rewrote the layout.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/vm.ts';

const REGISTER = join(REPO_ROOT, 'scenarios/run/ts-register.mjs');

function run(dir: string, file: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', REGISTER, join(dir, file)], {
    encoding: 'utf8', cwd: dir, env: { ...process.env, VXO_TS_CACHE: join(dir, 'cache') },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cached = (dir: string): number => readdirSync(join(dir, 'cache')).filter((f) => f.endsWith('.js')).length;

test('a file is transformed once per text: the same text is read back, a changed one transformed anew', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-ts-hooks-'));
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(join(dir, 'main.ts'), 'const v: number = 1;\nconsole.log(String(v));\n');
  t.is(run(dir, 'main.ts').stdout, '1\n');
  t.is(cached(dir), 1);
  t.is(run(dir, 'main.ts').stdout, '1\n');
  t.is(cached(dir), 1, 'read back, not written again');
  writeFileSync(join(dir, 'main.ts'), 'const v: number = 2;\nconsole.log(String(v));\n');
  t.is(run(dir, 'main.ts').stdout, '2\n', 'the new text, not the cached transform of the old');
  t.is(cached(dir), 2);
});

test('imports as tsc emits them: `import type` goes, an import of types only by specifier stays with its side effects', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-ts-hooks-'));
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(join(dir, 'a.ts'), 'console.log(\'a loaded\');\nexport interface A { x: number }\n');
  writeFileSync(join(dir, 'b.ts'), 'console.log(\'b loaded\');\nexport interface B { y: number }\n');
  writeFileSync(join(dir, 'main.mts'), [
    'import type { A } from \'./a.ts\';',
    'import { type B } from \'./b.ts\';',
    'const a: A = { x: 1 };',
    'const b: B = { y: 2 };',
    'console.log(a.x + b.y);',
    '',
  ].join('\n'));
  const r = run(dir, 'main.mts');
  t.is(r.status, 0, r.stderr);
  t.is(r.stdout, 'b loaded\n3\n');
});

test('a stack trace names the TypeScript line and column', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-ts-hooks-'));
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(join(dir, 'main.ts'), [
    'interface Box {',
    '  n: number;',
    '}',
    '',
    'function boom(b: Box): never {',
    '  throw new Error(`boom ${b.n}`);',
    '}',
    '',
    'boom({ n: 7 });',
    '',
  ].join('\n'));
  const r = run(dir, 'main.ts');
  t.not(r.status, 0);
  t.regex(r.stderr, /Error: boom 7\n\s+at boom \(.*main\.ts:6:9\)/);
});
