// Module hooks that run vxo's TypeScript sources: each .ts (or .mts) file is transformed by esbuild
// (types removed, nothing else rewritten: every relative import already names its .ts file, so Node's own
// resolver finds it) and the result is kept on disk, keyed by the file's path and text, so a later
// process reads it without starting esbuild. The tests' processes and the workers they boot load
// them through this instead of tsx, which loads esbuild's 100 kB CommonJS entry in both its threads
// before the first file and resolves every import itself: measured on this tree (CPU-s, ava alone),
// test/int64.test.ts 1.54 -> 1.39, test/net/apps.test.ts 3.12 -> 2.34, one vhost worker's boot
// 0.86 -> 0.40; `npm test` starts ~210 processes. Registered by ts-register.mjs (a process) and
// ts-worker-boot.mjs (a worker thread).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The transform: tsconfig.json's target and verbatimModuleSyntax (an import not marked `type` stays,
// with its side effects, as tsc emits it), and what tsx uses for the rest (the running Node as
// target, a source map inline so stack traces and ava's failure locations name .ts lines).
const TRANSFORM = {
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node}`,
  sourcemap: 'inline',
  sourcesContent: false,
  minifyWhitespace: true,
  tsconfigRaw: { compilerOptions: { target: 'ES2022', verbatimModuleSyntax: true } },
};

let cacheDir = '';
/** @type {string} what, besides a file's path and text, decides its transform */
let salt = '';
/** @type {typeof import('esbuild') | undefined} loaded on the first file not in the cache */
let esbuild;

/** @param {{ cacheDir: string }} data */
export function initialize(data) {
  cacheDir = data.cacheDir;
  mkdirSync(cacheDir, { recursive: true });
  const { version } = createRequire(import.meta.url)('esbuild/package.json');
  salt = `${version}\0${JSON.stringify(TRANSFORM)}`;
}

/**
 * @param {string} url
 * @param {object} context
 * @param {(url: string, context: object) => Promise<object>} nextLoad
 */
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !/\.m?ts$/.test(url)) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const text = readFileSync(path, 'utf8');
  const key = createHash('sha1').update(salt).update('\0').update(path).update('\0').update(text).digest('hex');
  const file = join(cacheDir, `${key}.js`);
  let source;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    esbuild ??= await import('esbuild');
    source = (await esbuild.transform(text, { ...TRANSFORM, sourcefile: path })).code;
    // Written aside and renamed: processes running side by side never read half a file.
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, source);
    renameSync(tmp, file);
  }
  return { format: 'module', source, shortCircuit: true };
}
