// `npm run bench`: the VM micro-benchmarks, side by side with the kernel where it can be asked.
import { cpus } from 'node:os';
import { ENGINES } from '../bpf-vm/engines.ts';
import { kernelFigure } from './kernel.ts';
import { benchMaps } from './maps.ts';
import { benchRegisters } from './registers.ts';
import { benchVerifier } from './verifier.ts';
import { benchVm, compileTime } from './vm.ts';
import { benchOffloadVsNative, benchShortTable } from './scenarios.ts';
import { benchStartup } from './startup.ts';
import { benchUdpRcv } from './net-udp-rcv.ts';
import { benchFloodRcv } from './net-flood-rcv.ts';
import { FLOOD_KINDS } from '../scenarios/run/run-flood.ts';
import { benchFloods, benchTcpStream } from './net-scenarios.ts';
import { benchLookupHelpers, benchSkLookupConfigs } from './net-sk-lookup.ts';
import { benchSyncookieThread, benchSyncookieWorkers, syncookieLines } from './syncookie.ts';

const PROGS = ['xdp1', 'xdp2'] as const;

console.log(`vxo bench: ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, Node ${process.version}`);
console.log('\nstart-up: wall time of the built vxo command (bin/vxo.js) against a bare node, median of 9 interleaved runs');
for (const r of benchStartup()) {
  const target = r.target === undefined ? '' : `  (target ${r.target}x: ${r.ratio <= r.target ? 'met' : 'NOT met'})`;
  console.log(`  ${r.name.padEnd(30)} ${r.ms.toFixed(0).padStart(5)} ms  ${r.ratio.toFixed(2)}x node${target}`);
}

console.log('\nns per packet, 64-byte UDP frame, one long-lived runner per engine (median of 7 rounds of 2M runs);');
console.log('the kernel figure is bpftool prog run (BPF_PROG_TEST_RUN, repeat 10M), which includes its per-run overhead');
const rows = benchVm(PROGS);
for (const prog of PROGS) {
  const k = kernelFigure(prog);
  console.log(`  ${prog}: ${k.ok ? `kernel JIT ${k.nsPerPacket} ns (retval ${k.retval})` : `kernel: n/a (${k.reason})`}`);
  for (const r of rows.filter((x) => x.prog === prog)) {
    const target = r.engine === 'jit' ? 2 : 10;
    const ratio = k.ok && k.nsPerPacket > 0 ? `  = ${(r.nsPerPacket / k.nsPerPacket).toFixed(1)}x the kernel (target ${target}x)` : '';
    console.log(`    ${r.engine.padEnd(7)} ${String(r.nsPerPacket).padStart(6)} ns  (retval ${r.retval}; rounds ${r.rounds.join(' ')})${ratio}`);
  }
}

console.log('\ntime from a loaded object to the first packet (verify + prepare + generate/compile + one run), median of 9');
for (const prog of PROGS) {
  console.log(`  ${prog}: ${ENGINES.map((e) => `${e} ${compileTime(prog, e).ms.toFixed(2)} ms`).join(', ')}`);
}

console.log('\nverifier: time to verify (median of 15) and processed instructions');
for (const v of benchVerifier(['xdp1', 'xdp2', 'redirect', 'rx_drop'])) {
  const k = v.kernelProcessed === undefined ? 'kernel: n/a' : `kernel processed ${v.kernelProcessed}`;
  console.log(`  ${v.prog.padEnd(9)} ${v.ms.toFixed(2).padStart(7)} ms  processed ${String(v.processed).padStart(6)}  (${k})`);
}

console.log('\nregister file, ns per 64-bit operation (add, sub, compare loop)');
for (const r of benchRegisters()) console.log(`  ${r.name.padEnd(40)} ${r.nsPerOp.toFixed(2)} ns`);

console.log('\nmaps, ns per operation (program side)');
for (const m of await benchMaps()) console.log(`  ${m.name.padEnd(40)} ${m.nsPerOp.toFixed(1)} ns`);

console.log('\ndata path: Case 1 (NIC XDP redirect into the tap), offload vs native, Mpps where the program acts (median of 3 runs of 1.5 s)');
for (const l of await benchOffloadVsNative()) console.log(l);

console.log('\na short table (1 run of 1 s per cell; `npm start` runs the full one):');
console.log(await benchShortTable());

console.log('\nnetwork stacks: the guest\'s UDP receive path on one thread (netif_receive_skb -> ip_rcv -> udp_rcv -> socket -> recv), 0-length datagrams, ns per packet (median of 7 rounds of 200k)');
for (const f of [4, 6] as const) {
  const r = benchUdpRcv(f);
  console.log(`  udp${f}: ${r.nsPerPacket.toFixed(0)} ns/packet = ${(1e3 / r.nsPerPacket).toFixed(2)} Mpps on one core (rounds ${r.rounds.join(' ')}; read ${r.read} of ${r.sent})`);
}

console.log('\nSK_LOOKUP (the cover letter\'s configurations) on the guest\'s UDP receive path, one thread, ns per packet (median of 9 interleaved rounds of 100k)');
for (const f of [4, 6] as const) {
  for (const r of benchSkLookupConfigs(f)) {
    console.log(`  udp${f} ${r.config.padEnd(48)} ${r.nsPerPacket.toFixed(0).padStart(5)} ns  ${r.deltaPct >= 0 ? '+' : ''}${r.deltaPct.toFixed(1)}%  (read ${r.read} of ${r.sent})`);
  }
}
console.log('\nthe guest\'s receive of one packet of each cover-letter flood, one thread, CPU ns per packet (median of 9 interleaved rounds of 100k; bytes allocated: npx tsx bench/flood-rcv-main.ts)');
for (const r of benchFloodRcv([...FLOOD_KINDS.map((kind) => ({ kind })), { kind: 'udp4', socketFilter: true }, { kind: 'udp6', socketFilter: true }])) {
  console.log(`  ${`${r.kind}${r.socketFilter ? '+sf_drop' : ''}`.padEnd(12)} ${r.nsPerPacket.toFixed(0).padStart(5)} ns = ${(1e3 / r.nsPerPacket).toFixed(2)} Mpps on one core`);
}
console.log('\nsocket lookup helpers from XDP: bpf_sk_lookup_udp + bpf_sk_release, ns per call (against the same program skipping the calls)');
for (const e of ['jit', 'interp'] as const) {
  const h = benchLookupHelpers(e);
  console.log(`  ${e.padEnd(7)} ${h.hitNs.toFixed(0).padStart(5)} ns finding the socket, ${h.missNs.toFixed(0).padStart(5)} ns finding none`);
}

console.log('\nnetwork stacks: floods into the guest over the four workers (Case 2 path), median of 3 runs of 2 s');
for (const l of await benchFloods()) console.log(l);

console.log('\nnetwork stacks: netperf TCP_STREAM host to guest (2 s)');
for (const l of await benchTcpStream()) console.log(l);

console.log('\nconnections/s, netperf TCP_CRR host to guest: the custom SYN cookie (tc program + bpf_sk_assign_tcp_reqsk) vs syncookies=2 vs the SYN queue');
console.log('  over the four workers, IPv4 (median of 3 interleaved rounds of 2 s; one connection at a time, so bound by the workers\' round trips):');
const scw = await benchSyncookieWorkers({ family: 4, rounds: 3 });
if (scw.skipped !== undefined) console.log(`  custom cookie: n/a (${scw.skipped})`);
for (const l of syncookieLines(scw.rows)) console.log(l);
console.log('  on one thread, two stacks on veth, IPv4, per wall-clock second (median of 5 interleaved rounds): the CPU per connection');
const sct = benchSyncookieThread({ family: 4 });
if (sct.skipped !== undefined) console.log(`  custom cookie (tc program): n/a (${sct.skipped})`);
for (const l of syncookieLines(sct.rows)) console.log(l);
