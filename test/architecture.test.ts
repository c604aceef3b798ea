// The dependency direction of shared/design/architecture.md, checked on every import in the tree.
import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { REPO_ROOT } from './support/vm.ts';

/** Which of our top-level folders each folder may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  'bpf-vm': [],
  virtio: [],
  // The network stack both machines run: it runs tc, socket-filter and SK_LOOKUP programs.
  net: ['bpf-vm'],
  tun: ['bpf-vm', 'net'],
  vhost: ['virtio', 'tun'],
  guest: ['virtio', 'bpf-vm', 'net'],
  host: ['virtio', 'bpf-vm', 'net', 'tun'],
  scenarios: ['bpf-vm', 'virtio', 'net', 'tun', 'vhost', 'guest', 'host'],
  // Development tools: they may reach into everything, and nothing reaches into them.
  bench: ['bpf-vm', 'virtio', 'net', 'tun', 'vhost', 'guest', 'host', 'scenarios', 'test'],
  test: ['bpf-vm', 'virtio', 'net', 'tun', 'vhost', 'guest', 'host', 'scenarios', 'bench'],
  // The package's public surface (index.ts) exports every layer, the scenarios' functions included.
  '.': ['bpf-vm', 'virtio', 'net', 'tun', 'vhost', 'guest', 'host', 'scenarios'],
  // The command runs the build (dist/ mirrors the source folders).
  bin: ['dist'],
};

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.') || name === 'tmp') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|js|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

test('every import follows the dependency direction of architecture.md', (t) => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of sources(REPO_ROOT)) {
    const rel = relative(REPO_ROOT, file);
    const top = rel.includes(sep) ? rel.split(sep)[0]! : '.';
    const allowed = ALLOWED[top];
    if (allowed === undefined) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) continue;
      const target = relative(REPO_ROOT, resolve(dirname(file), spec));
      const targetTop = target.includes(sep) ? target.split(sep)[0]! : '.';
      checked++;
      if (targetTop !== top && !allowed.includes(targetTop)) violations.push(`${rel} imports ${target}`);
    }
  }
  t.true(checked > 100, `${checked} imports checked`);
  t.deepEqual(violations, []);
});
