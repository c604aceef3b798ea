// `tc filter add/del/show` against the running kernel: the same sequence of filters on a veth in a
// scratch netns (iproute2, cls_bpf) and on a vxo device (cls-bpf.ts) gives the same listing, line
// for line (program ids aside): auto prios 49152 then 49151, the newest handle first within a prio,
// protocols, a classid without direct-action, "Filter already exists"; and bpftool net's tc lines.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadObjectFile } from '../../bpf-vm/prog/collection.ts';
import { BootState } from '../../net/core/boot-state.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { VethDevice } from '../../net/core/veth.ts';
import { register_netdevice } from '../../net/core/dev.ts';
import { ETH_P_IP, ETH_P_IPV6 } from '../../net/core/skbuff.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { qdisc_create_clsact, tc_filter_add, tc_filter_del, type ClsBpfOptions, type TcDirection } from '../../net/sched/cls-bpf.ts';
import { bpf_net_show_text, tc_filter_show_text } from '../../net/core/bpf-show.ts';
import { kernelTest } from '../support/kernel-test.ts';

const OBJ = join(fileURLToPath(new URL('../fixtures/tc/', import.meta.url)), 'tc_ctx.o');

interface Step {
  dir: TcDirection;
  /** tc's words after `dev v0 <dir>`, before `bpf`. */
  tc: string[];
  /** `da` or not; `classid`. */
  da: boolean;
  classid?: string;
  vxo: ClsBpfOptions;
  /** Expected failure (the kernel's exit status is non-zero; vxo's errno). */
  fails?: number;
}

const STEPS: Step[] = [
  { dir: 'ingress', tc: [], da: true, vxo: {} },
  { dir: 'ingress', tc: [], da: true, vxo: {} },
  { dir: 'ingress', tc: ['prio', '5', 'handle', '1'], da: true, vxo: { prio: 5, handle: 1 } },
  { dir: 'ingress', tc: ['prio', '5', 'handle', '2'], da: true, vxo: { prio: 5, handle: 2 } },
  { dir: 'ingress', tc: ['prio', '5', 'handle', '2'], da: true, vxo: { prio: 5, handle: 2 }, fails: -ERRNO.EEXIST },
  { dir: 'ingress', tc: ['prio', '6'], da: false, classid: '1:22', vxo: { prio: 6, classid: 0x10022 } },
  { dir: 'egress', tc: ['prio', '7', 'protocol', 'ip'], da: true, vxo: { prio: 7, protocol: ETH_P_IP } },
  { dir: 'egress', tc: ['prio', '8', 'protocol', 'ipv6'], da: true, vxo: { prio: 8, protocol: ETH_P_IPV6 } },
  { dir: 'egress', tc: ['prio', '8', 'protocol', 'ip'], da: true, vxo: { prio: 8, protocol: ETH_P_IP }, fails: -ERRNO.EINVAL },
];

function sh(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Program ids differ between the two; ifindexes too. */
const norm = (s: string): string => s.replace(/ id \d+/g, ' id N').replace(/v0\(\d+\)/g, 'v0(I)');

kernelTest('tc filter show and bpftool net tc lines: vxo lists what the kernel lists after the same tc commands', (t) => {
  const ns = `vxo-h5-${process.pid}`;
  const add = sh('ip', ['netns', 'add', ns]);
  if (add.status !== 0) {
    t.log(`no scratch netns: ${add.stderr.trim()}`);
    t.pass();
    return;
  }
  try {
    const veth = sh('ip', ['-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    if (veth.status !== 0) {
      t.log(`no veth: ${veth.stderr.trim()}`);
      t.pass();
      return;
    }
    t.is(sh('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'v0', 'clsact']).status, 0);

    const net = new Net(new BootState({ clock: new VirtualClock(), seed: 1 }), { hash_mix: 0 });
    const dev = new VethDevice('v0', new Uint8Array([2, 0, 0, 0, 0, 1]));
    register_netdevice(net, dev);
    t.is(qdisc_create_clsact(dev), 0);
    const prog = loadObjectFile(OBJ).program('ctx_fields');

    for (const s of STEPS) {
      const args = ['-n', ns, 'filter', 'add', 'dev', 'v0', s.dir, ...s.tc, 'bpf', ...(s.da ? ['da'] : []), 'obj', OBJ, 'sec', 'tc'];
      if (s.classid !== undefined) args.push('classid', s.classid);
      const k = sh('tc', args);
      const v = tc_filter_add(dev, s.dir, prog, { ...s.vxo, direct_action: s.da, name: 'tc_ctx.o:[tc]', engine: 'jit' });
      if (s.fails !== undefined) {
        t.not(k.status, 0, `kernel: ${args.join(' ')}`);
        t.is(v, s.fails, `vxo: ${args.join(' ')}`);
      } else {
        t.is(k.status, 0, `${args.join(' ')}: ${k.stderr}`);
        t.is(typeof v, 'object', `vxo: ${args.join(' ')}`);
      }
    }
    // One deleted by prio and handle.
    t.is(sh('tc', ['-n', ns, 'filter', 'del', 'dev', 'v0', 'ingress', 'prio', '5', 'handle', '1', 'bpf']).status, 0);
    t.is(tc_filter_del(dev, 'ingress', { prio: 5, handle: 1 }), 0);

    for (const dir of ['ingress', 'egress'] as const) {
      const k = sh('tc', ['-n', ns, 'filter', 'show', 'dev', 'v0', dir]);
      t.is(k.status, 0);
      t.is(norm(tc_filter_show_text(dev, dir)), norm(k.stdout), dir);
      // ingress: 49151, 49152, prio 5 (handle 2 left), prio 6; egress: 7 and 8. Two lines each.
      t.is(k.stdout.trim().split('\n').length, dir === 'ingress' ? 8 : 4, k.stdout);
    }
    const k = sh('ip', ['netns', 'exec', ns, 'bpftool', 'net']);
    t.is(k.status, 0);
    const tcLines = (s: string): string => norm(s.slice(s.indexOf('tc:'), s.indexOf('flow_dissector:')));
    t.is(tcLines(bpf_net_show_text(net)), tcLines(k.stdout));
  } finally {
    sh('ip', ['netns', 'del', ns]);
  }
});
