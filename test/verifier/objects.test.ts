// Every clang-built object vxo ships is accepted, and the work it takes is printed beside the
// kernel's own `processed N insns` (a benchmark, not an assertion: within a small factor is good).
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { REPO_ROOT } from '../support/vm.ts';

const DIRS = ['scenarios/xdp', 'test/corpus/c', 'test/fixtures/elf'];
const expected = JSON.parse(readFileSync(join(REPO_ROOT, 'test/corpus/c/expected.json'), 'utf8')) as {
  objects: Record<string, { program: string; verifierProcessed?: number }>;
};

const objects = DIRS.flatMap((d) => readdirSync(join(REPO_ROOT, d)).filter((f) => f.endsWith('.o')).map((f) => join(REPO_ROOT, d, f)));
const rows: string[] = [];

for (const path of objects) {
  const rel = relative(REPO_ROOT, path);
  test(`accepts ${rel}`, (t) => {
    const coll = loadObjectFile(path);
    for (const prog of coll.programs.values()) {
      const t0 = performance.now();
      const r = verifyProgram(prog);
      const ms = performance.now() - t0;
      t.true(r.stats.processed > 0, prog.name);
      const k = expected.objects[rel]?.program === prog.name ? expected.objects[rel]?.verifierProcessed : undefined;
      const ratio = k ? ` (${(r.stats.processed / k).toFixed(2)}x)` : '';
      const line = `${rel} ${prog.name}: processed ${r.stats.processed}, kernel ${k ?? '-'}${ratio}, states ${r.stats.totalStates}, ${ms.toFixed(1)} ms`;
      rows.push(line);
      t.log(line);
    }
  });
}

test('xdp1 and xdp2 verify in milliseconds', (t) => {
  for (const name of ['xdp1', 'xdp2']) {
    const prog = loadObjectFile(join(REPO_ROOT, `scenarios/xdp/${name}.o`)).program();
    verifyProgram(prog); // warm-up
    const t0 = performance.now();
    const n = 20;
    for (let i = 0; i < n; i++) verifyProgram(prog);
    const ms = (performance.now() - t0) / n;
    t.log(`${name}: ${ms.toFixed(2)} ms per verification`);
    t.true(ms < 50, `${name} took ${ms} ms`);
  }
});
