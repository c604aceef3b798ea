// Program tags (what `tc filter show` and bpftool print) against the running kernel: every program
// of the tc fixture objects, loaded by bpftool, has the tag vxo computes for the same object
// (bpf_prog_calc_tag: SHA-256 since Linux 6.18, SHA-1 before; the running kernel decides).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { bpf_prog_tag } from '../../net/core/bpf-show.ts';
import { kernelTest } from '../support/kernel-test.ts';

const DIR = fileURLToPath(new URL('../fixtures/tc/', import.meta.url));

/** bpftool prog loadall, then each pinned program's tag; the pins removed afterwards. */
function kernelTags(obj: string): Map<string, string> {
  const base = join('/sys/fs/bpf', `vxo-tag-${process.pid}-${Math.random().toString(16).slice(2, 10)}`);
  try {
    mkdirSync(base);
    const load = spawnSync('bpftool', ['prog', 'loadall', obj, join(base, 'p'), 'pinmaps', join(base, 'm')], { encoding: 'utf8' });
    if (load.status !== 0) throw new Error(`bpftool prog loadall ${obj}: ${load.stderr}`);
    const out = new Map<string, string>();
    for (const name of readdirSync(join(base, 'p'))) {
      const show = spawnSync('bpftool', ['-j', 'prog', 'show', 'pinned', join(base, 'p', name)], { encoding: 'utf8' });
      if (show.status !== 0) throw new Error(`bpftool prog show ${name}: ${show.stderr}`);
      out.set(name, (JSON.parse(show.stdout) as { tag: string }).tag);
    }
    return out;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

for (const obj of ['sock_filter.o', 'tc_ctx.o', 'tc_helpers.o']) {
  kernelTest(`program tags of ${obj} equal the kernel's`, (t) => {
    const path = join(DIR, obj);
    const kernel = kernelTags(path);
    const coll = loadObjectFile(path);
    t.true(kernel.size > 0);
    for (const [name, tag] of kernel) t.is(bpf_prog_tag(coll.program(name)), tag, `${obj}: ${name}`);
  });
}
