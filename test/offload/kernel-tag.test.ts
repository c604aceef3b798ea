// The tag the device shows equals the one `bpftool prog show` prints for the same object (the
// kernel's bpf_prog_calc_tag), on machines where the kernel can be asked; skipped elsewhere.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { kernelAvailable } from '../support/kernel.ts';
import { XDP_FLAGS } from '../../guest/bpf/index.ts';
import { FIXTURES, world, XDP_DIR } from './support.ts';

const objects: [string, string][] = [
  [`${XDP_DIR}xdp1.o`, 'xdp1'],
  [`${XDP_DIR}xdp2.o`, 'xdp2'],
  [`${FIXTURES}offload_mix.o`, 'xdp_mix'],
];

function kernelTag(obj: string, prog: string): string {
  const dir = `/sys/fs/bpf/vxo-tag-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const load = spawnSync('bpftool', ['prog', 'loadall', obj, dir], { encoding: 'utf8' });
    if (load.status !== 0) throw new Error(`bpftool prog loadall ${obj}: ${load.stderr}`);
    const show = spawnSync('bpftool', ['-j', 'prog', 'show', 'pinned', `${dir}/${prog}`], { encoding: 'utf8' });
    return (JSON.parse(show.stdout) as { tag: string }).tag;
  } finally {
    spawnSync('rm', ['-rf', dir]);
  }
}

for (const [obj, prog] of objects) {
  test(`the offloaded ${prog}'s tag is the kernel's`, (t) => {
    const k = kernelAvailable();
    if (!k.ok) {
      t.log(`skipped: ${k.reason}`);
      t.pass();
      return;
    }
    const w = world();
    const o = w.bpf.loadObjectForOffload(obj, w.ifindex);
    w.bpf.xdpAttach(w.ifindex, o.progFd, XDP_FLAGS.XDP_FLAGS_HW_MODE);
    t.is(w.host.show().program?.tag, kernelTag(obj, prog));
  });
}
