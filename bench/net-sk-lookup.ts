// The SK_LOOKUP cover letter's three configurations on vxo's guest UDP receive path (one thread,
// interleaved rounds, bench/net-udp-rcv.ts), and the socket lookup helpers' cost per call from XDP.
// The kernel's first configuration (no SK_LOOKUP code at all) has no vxo counterpart: vxo's
// lookups test the run array's length first, as the kernel tests its static key, so "hook with no
// program" runs the code a kernel without the hook runs plus that one test; it is the baseline.
import { join } from 'node:path';
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import { SkLookupProgramRunner } from '../bpf-vm/prog/sk-lookup-runner.ts';
import { XdpProgramRunner } from '../bpf-vm/prog/xdp-runner.ts';
import { assemble } from '../bpf-vm/asm/assembler.ts';
import { FdTable } from '../bpf-vm/prog/fd-table.ts';
import { BPF_PROG_TYPE } from '../bpf-vm/prog/types.ts';
import type { EngineName } from '../bpf-vm/engines.ts';
import { net_bpf_host } from '../net/core/filter.ts';
import { netns_bpf_link_create } from '../net/core/sk-lookup.ts';
import { PACKAGE_ROOT } from '../scenarios/package-root.ts';
import { measureRigs, UdpRcvRig } from './net-udp-rcv.ts';

const SK = (f: string): string => join(PACKAGE_ROOT, 'scenarios', 'sk', f);

export interface SkLookupConfigRow {
  config: string;
  nsPerPacket: number;
  /** Against the first row. */
  deltaPct: number;
  read: number;
  sent: number;
}

/** 200 bindings, tcp 10.i.0.0/16 port 1000 + i (scenarios/sk/README.md's suggestion): none matches the flood. */
function fillBenchBindings(m: { update(k: Uint8Array, v: Uint8Array, f?: number): number }): void {
  for (let i = 0; i < 200; i++) {
    const key = new Uint8Array(23);
    const dv = new DataView(key.buffer);
    dv.setUint32(0, 24 + 96 + 16, true);
    key[4] = 6;
    dv.setUint16(5, 1000 + i, false);
    key[17] = 0xff; key[18] = 0xff; key[19] = 10; key[20] = i;
    const r = m.update(key, new Uint8Array([1, 0, 0, 0]), 0);
    if (r !== 0) throw new Error(`bench_bindings update: ${r}`);
  }
}

export function benchSkLookupConfigs(family: 4 | 6, engine: EngineName = 'jit', packetsPerRound = 100_000, rounds = 9): SkLookupConfigRow[] {
  const none = new UdpRcvRig(family);
  const pass = new UdpRcvRig(family);
  const lpm = new UdpRcvRig(family);
  // An SK_PASS-only program: the hook's own cost (the run array, the context, one program run).
  const passProg = {
    name: 'sk_pass', section: 'sk_lookup', type: BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP,
    insns: assemble('mov %r0, 1\nexit'), funcs: [], license: 'GPL', fds: new FdTable(),
  };
  netns_bpf_link_create(pass.net, new SkLookupProgramRunner(passProg, { netHost: net_bpf_host(pass.net), engine }));
  const coll = loadObjectFile(SK('sk_lookup_bench.o'));
  fillBenchBindings(coll.maps.get('bench_bindings')!);
  netns_bpf_link_create(lpm.net, new SkLookupProgramRunner(coll.program('sk_lookup_bench'), { netHost: net_bpf_host(lpm.net), engine }));
  const res = measureRigs([none, pass, lpm], packetsPerRound, rounds);
  const names = ['hook, no program (static key off)', 'SK_PASS-only program attached', '200-entry LPM program attached (cover letter)'];
  const base = res[0]!.nsPerPacket;
  return res.map((r, i) => ({ config: names[i]!, nsPerPacket: r.nsPerPacket, deltaPct: ((r.nsPerPacket - base) / base) * 100, read: r.read, sent: r.sent }));
}

/**
 * ns per bpf_sk_lookup_udp + bpf_sk_release pair from XDP: an XDP program building an IPv4 tuple
 * on its stack and calling the pair `calls` times against the rig's Net (which has the sink on
 * port 9: a hit), against the same program with the calls jumped over (the gate is the frame's
 * ingress_ifindex, which the verifier cannot know, so both runs execute the same code).
 */
export function benchLookupHelpers(engine: EngineName = 'jit', calls = 8, runs = 200_000): { hitNs: number; missNs: number } {
  const rig = new UdpRcvRig(4);
  const host = net_bpf_host(rig.net);
  const prog = (port: number): XdpProgramRunner => {
    // struct bpf_sock_tuple ipv4 at fp-16: saddr 10.0.0.3, daddr 10.0.0.2, sport 1024, dport.
    const body = `
  mov %r6, %r1
  ldxw %r8, [%r1+12]
  mov %r7, ${calls}
  stw [%r10-16], 0x0300000a
  stw [%r10-12], 0x0200000a
  sth [%r10-8], 0x0004
  sth [%r10-6], ${((port & 0xff) << 8) | (port >>> 8)}
loop:
  jeq %r7, 0, out
  sub %r7, 1
  jeq %r8, 0, loop
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -16
  mov %r3, 12
  mov %r4, -1
  mov %r5, 0
  call 85
  jeq %r0, 0, loop
  mov %r1, %r0
  call 86
  ja loop
out:
  mov %r0, 2
  exit`;
    const p = { name: 'lookup_loop', section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, insns: assemble(body), funcs: [], license: 'GPL', fds: new FdTable() };
    const r = new XdpProgramRunner(p, { engine, netHost: host });
    const frame = new Uint8Array(4096);
    r.xdp.prepare(frame, 0, 4096, 256, 256 + 60);
    return r;
  };
  const time = (r: XdpProgramRunner, call: boolean): number => {
    r.xdp.ingressIfindex = call ? 1 : 0;
    for (let i = 0; i < 20_000; i++) r.run();
    const samples: number[] = [];
    for (let k = 0; k < 7; k++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) r.run();
      samples.push(Number(process.hrtime.bigint() - t0) / runs);
    }
    return samples.sort((a, b) => a - b)[3]!;
  };
  const hitProg = prog(9);
  const base = time(hitProg, false);
  const hit = time(hitProg, true);
  const miss = time(prog(7), true);
  return { hitNs: (hit - base) / calls, missNs: (miss - base) / calls };
}
