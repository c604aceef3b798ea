// Records the real kernel's verdict on every unsafe case: npx tsx test/verifier-corpus/gen-kernel.ts [NAME...]
// Needs root, bpftool and clang (test/support/kernel.ts). For each assembly and C case it rewrites
// the `kernel-errno:` and `kernel:` header lines; generated cases (corpus.ts GENERATED) are only
// checked. Fails when the kernel accepts a case (it is then not unsafe) or when a case's `expect:`
// phrase is not in the kernel's error lines (the phrase must be the kernel's).
import { readFileSync, writeFileSync } from 'node:fs';
import { kernelAvailable } from '../support/kernel.ts';
import { loadUnsafeCorpus, type UnsafeCase } from './corpus.ts';
import { askKernel, type KernelAnswer } from './kernel-verdict.ts';

function rewriteHeaders(c: UnsafeCase, k: KernelAnswer): boolean {
  if (c.file === undefined) return false;
  const prefix = c.kind === 'c' ? '//' : ';';
  const text = readFileSync(c.file, 'utf8');
  const lines = text.split('\n');
  // The header block: leading comment lines.
  let end = 0;
  while (end < lines.length && (lines[end]!.trim().startsWith(prefix) || lines[end]!.trim() === '')) end++;
  const isKernel = (l: string): boolean => new RegExp(`^${prefix.replace(/\//g, '\\/')}\\s*kernel(-errno)?:`).test(l.trim());
  const head = lines.slice(0, end).filter((l) => !isKernel(l));
  const at = head.findIndex((l) => new RegExp(`^${prefix.replace(/\//g, '\\/')}\\s*expect:`).test(l.trim()));
  if (at < 0) throw new Error(`${c.file}: no expect: line`);
  const add = [`${prefix} kernel-errno: ${k.errno ?? '?'}`, ...k.lines.map((l) => `${prefix} kernel: ${l}`)];
  head.splice(at + 1, 0, ...add);
  const out = [...head, ...lines.slice(end)].join('\n');
  if (out === text) return false;
  writeFileSync(c.file, out);
  return true;
}

function main(): void {
  const avail = kernelAvailable();
  if (!avail.ok) {
    console.error(`gen-kernel: the kernel is not usable here: ${avail.reason}`);
    process.exit(1);
  }
  const only = new Set(process.argv.slice(2));
  const problems: string[] = [];
  let changed = 0;
  let n = 0;
  for (const c of loadUnsafeCorpus()) {
    if (only.size > 0 && !only.has(c.name)) continue;
    n++;
    const k = askKernel(c.kernelInput());
    const text = k.lines.join('\n');
    const status = k.accepted ? 'ACCEPTED' : `${k.errno} ${k.lines[0] ?? '(no log)'}`;
    console.log(`${c.name.padEnd(44)} ${status}`);
    if (k.accepted) {
      problems.push(`${c.name}: the kernel ACCEPTS it`);
      continue;
    }
    if (!text.includes(c.expect) && !(k.lines.length === 0 && c.kind === 'generated')) {
      problems.push(`${c.name}: expect '${c.expect}' not in the kernel's error lines:\n    ${k.lines.join('\n    ') || k.log.split('\n').slice(-12).join('\n    ')}`);
    }
    if (c.kind === 'generated') {
      const want = JSON.stringify(c.kernel);
      const got = JSON.stringify({ errno: k.errno, lines: k.lines });
      if (want !== got) problems.push(`${c.name}: recorded ${want}, the kernel now says ${got} (update corpus.ts GENERATED)`);
    } else if (rewriteHeaders(c, k)) {
      changed++;
    }
  }
  console.log(`${n} cases, ${changed} files updated, ${problems.length} problems`);
  for (const p of problems) console.log(`PROBLEM ${p}`);
  if (problems.length > 0) process.exit(1);
}

main();
