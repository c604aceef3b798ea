// cls_bpf direct-action verdicts against the running kernel, with a real datagram: two scratch
// netns joined by a veth pair, on the receiver's ingress a program returning the verdict at
// prio 1 and one returning TC_ACT_SHOT at prio 2 (both `protocol ip`). What happens to one UDP
// datagram to a closed port, read from the clsact qdisc's drop counter and Udp NoPorts (the
// datagram reached UDP), is what vxo does with the same two programs between two stacks.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clangBpfArgs } from '../support/kernel.ts';
import { kernelTest } from '../support/kernel-test.ts';
import { ENGINES, ret, tcProg, threeHosts, udpSocket } from '../net/cls-bpf-progs.ts';
import { bpf_tc_attach, dev_clsact } from '../../net/sched/cls-bpf.ts';
import { ETH_P_IP } from '../../net/core/skbuff.ts';
import { TC_ACT } from '../../net/sched/pkt-cls.ts';

const VERDICTS: readonly number[] = [
  TC_ACT.TC_ACT_OK, TC_ACT.TC_ACT_SHOT, TC_ACT.TC_ACT_UNSPEC, TC_ACT.TC_ACT_PIPE, TC_ACT.TC_ACT_RECLASSIFY, TC_ACT.TC_ACT_STOLEN,
  TC_ACT.TC_ACT_QUEUED, TC_ACT.TC_ACT_REPEAT, TC_ACT.TC_ACT_TRAP, 99,
];

interface Outcome {
  dropped: number;
  noPorts: number;
}

function sh(cmd: string, args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function must(cmd: string, args: string[]): string {
  const r = sh(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function udpNoPorts(ns: string): number {
  const snmp = must('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp']).split('\n').filter((l) => l.startsWith('Udp:'));
  const names = snmp[0]!.split(/\s+/);
  const values = snmp[1]!.split(/\s+/);
  return Number(values[names.indexOf('NoPorts')]);
}

function qdiscDropped(ns: string, dev: string): number {
  const q = JSON.parse(must('tc', ['-n', ns, '-s', '-j', 'qdisc', 'show', 'dev', dev])) as { kind: string; drops?: number }[];
  return q.find((x) => x.kind === 'clsact')?.drops ?? 0;
}

/** Two scratch netns joined by a veth pair: na (10.9.0.1 on va) and nb (10.9.0.2 on vb, a static neighbour for na). */
function kernelPair(): { na: string; nb: string } {
  const na = `vxo-h5a-${process.pid}`;
  const nb = `vxo-h5b-${process.pid}`;
  must('ip', ['netns', 'add', na]);
  must('ip', ['netns', 'add', nb]);
  must('ip', ['-n', na, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', nb]);
  must('ip', ['-n', na, 'addr', 'add', '10.9.0.1/24', 'dev', 'va']);
  must('ip', ['-n', nb, 'addr', 'add', '10.9.0.2/24', 'dev', 'vb']);
  must('ip', ['-n', na, 'link', 'set', 'va', 'up']);
  must('ip', ['-n', nb, 'link', 'set', 'vb', 'up']);
  const mac = (JSON.parse(must('ip', ['-n', na, '-j', 'link', 'show', 'va'])) as { address: string }[])[0]!.address;
  must('ip', ['-n', nb, 'neigh', 'add', '10.9.0.1', 'lladdr', mac, 'dev', 'vb', 'nud', 'permanent']);
  return { na, nb };
}

const secOf = (r: number): string => `tc/ret_${r < 0 ? 'm' : ''}${Math.abs(r)}`;

/** One tc object with a program per verdict (and SHOT), section tc/ret_<r>. */
function retObject(dir: string): string {
  const src = join(dir, 'rets.c');
  const o = join(dir, 'rets.o');
  const progs = [...new Set([...VERDICTS, 2])].map((r) =>
    `__attribute__((section("${secOf(r)}"), used)) int ret_${r < 0 ? 'm' : ''}${Math.abs(r)}(struct __sk_buff *skb) { return ${r}; }`);
  writeFileSync(src, `#include <linux/bpf.h>\n${progs.join('\n')}\nchar _license[] __attribute__((section("license"), used)) = "GPL";\n`);
  must('clang', clangBpfArgs(src, o));
  return o;
}

/** The kernel: a fresh clsact with the two filters on va, one datagram from nb to na:7000. */
function kernelOutcome(p: { na: string; nb: string }, obj: string, verdict: number): Outcome {
  const { na, nb } = p;
  sh('tc', ['-n', na, 'qdisc', 'del', 'dev', 'va', 'clsact']);
  must('tc', ['-n', na, 'qdisc', 'add', 'dev', 'va', 'clsact']);
  must('tc', ['-n', na, 'filter', 'add', 'dev', 'va', 'ingress', 'protocol', 'ip', 'prio', '1', 'bpf', 'da', 'obj', obj, 'sec', secOf(verdict)]);
  must('tc', ['-n', na, 'filter', 'add', 'dev', 'va', 'ingress', 'protocol', 'ip', 'prio', '2', 'bpf', 'da', 'obj', obj, 'sec', secOf(2)]);
  const before = udpNoPorts(na);
  const send = "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('10.9.0.1', 7000))";
  must('ip', ['netns', 'exec', nb, 'python3', '-c', send]);
  // veth delivers through the peer's NAPI: give it a moment.
  sh('sleep', ['0.1']);
  return { dropped: qdiscDropped(na, 'va'), noPorts: udpNoPorts(na) - before };
}

/** vxo: the same two programs on a's veth0, one datagram from b to a closed port. */
function vxoOutcome(verdict: number, engine: (typeof ENGINES)[number]): Outcome {
  const h = threeHosts();
  for (const [prio, r] of [[1, verdict], [2, 2]] as const) {
    const f = bpf_tc_attach(h.deva, 'ingress', tcProg(ret(r)), { prio, protocol: ETH_P_IP, engine });
    if (typeof f === 'number') throw new Error(`attach: ${f}`);
  }
  const cli = udpSocket(h.b);
  cli.sendto(new Uint8Array([0x78]), { family: 2, addr: h.a4, port: 7000 });
  h.pump();
  return { dropped: dev_clsact(h.deva)!.stats.drops, noPorts: h.a.mib.udp.NoPorts };
}

kernelTest('direct-action verdicts on real traffic: the kernel and vxo drop, consume or pass the same datagrams', (t) => {
  if (sh('python3', ['-c', 'print(1)']).status !== 0) {
    t.log('python3 is not available to send the datagram');
    t.pass();
    return;
  }
  const probe = sh('ip', ['netns', 'add', `vxo-h5p-${process.pid}`]);
  if (probe.status !== 0) {
    t.log(`no scratch netns: ${probe.stderr.trim()}`);
    t.pass();
    return;
  }
  sh('ip', ['netns', 'del', `vxo-h5p-${process.pid}`]);
  const dir = mkdtempSync(join(tmpdir(), 'vxo-h5-'));
  let pair: { na: string; nb: string } | undefined;
  try {
    pair = kernelPair();
    const obj = retObject(dir);
    const seen = new Set<string>();
    for (const v of VERDICTS) {
      const k = kernelOutcome(pair, obj, v);
      seen.add(JSON.stringify(k));
      for (const engine of ENGINES) t.deepEqual(vxoOutcome(v, engine), k, `verdict ${v} (${engine})`);
    }
    // Passed (NoPorts), dropped by the second filter, consumed: all three happen.
    t.is(seen.size, 3, [...seen].join(' '));
  } finally {
    if (pair !== undefined) {
      sh('ip', ['netns', 'del', pair.na]);
      sh('ip', ['netns', 'del', pair.nb]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
