// The rejection corpus itself (test/verifier-corpus/README.md), without the verifier: every case
// parses, builds into a vxo Program, has the kernel's verdict recorded, and its expected phrase is
// the kernel's; every C source has its committed object.
import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CATEGORIES, UNSAFE_DIR, loadUnsafeCorpus } from './verifier-corpus/corpus.ts';

const cases = loadUnsafeCorpus();

test('the corpus has at least 160 cases, each category several', (t) => {
  t.true(cases.length >= 160, `${cases.length} cases`);
  const by = new Map<string, number>();
  for (const c of cases) by.set(c.category, (by.get(c.category) ?? 0) + 1);
  t.log([...by].map(([k, v]) => `${k} ${v}`).join(', '));
  for (const cat of CATEGORIES) t.true((by.get(cat) ?? 0) >= 3, `category ${cat} has ${by.get(cat) ?? 0} cases`);
  t.true(cases.filter((c) => c.kind === 'c').length >= 30, 'C cases');
  t.true(cases.filter((c) => c.kind === 'asm').length >= 100, 'assembly cases');
});

test('every case records the kernel rejecting it, and its phrase is the kernel\'s', (t) => {
  for (const c of cases) {
    const k = c.kernel;
    if (k === undefined) {
      t.fail(`${c.name}: no kernel verdict recorded (run test/verifier-corpus/gen-kernel.ts)`);
      continue;
    }
    t.regex(k.errno, /^E[A-Z0-9]+$/, `${c.name}: kernel-errno`);
    // E2BIG for a program over 1M instructions comes before the verifier and has no log.
    if (k.lines.length === 0) t.is(k.errno, 'E2BIG', `${c.name}: no kernel error line`);
    else t.true(k.lines.join('\n').includes(c.expect), `${c.name}: '${c.expect}' is not in the kernel's lines: ${k.lines.join(' / ')}`);
  }
});

test('every case builds a vxo program', (t) => {
  for (const c of cases) {
    if (c.kind === 'generated') continue; // a million instructions each; built by the verifier test
    const p = c.program();
    t.true(p.insns.length > 0, c.name);
  }
});

test('every C source has its committed object and the reverse', (t) => {
  const files = readdirSync(UNSAFE_DIR);
  for (const f of files.filter((x) => x.endsWith('.c'))) t.true(existsSync(join(UNSAFE_DIR, f.replace(/\.c$/, '.o'))), `${f}: no .o (make -C test/verifier-corpus/unsafe)`);
  for (const f of files.filter((x) => x.endsWith('.o'))) t.true(existsSync(join(UNSAFE_DIR, f.replace(/\.o$/, '.c'))), `${f}: no .c`);
});
