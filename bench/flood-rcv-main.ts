// `npx tsx bench/flood-rcv-main.ts [rounds]`: CPU ns per packet of the guest's receive of the four
// floods of the SK_LOOKUP cover letter on one thread (bench/net-flood-rcv.ts), the udp ones also
// with sf_drop.o on the sink as the sk-lookup suite runs them, and the bytes the path allocates
// per packet (V8's sampling heap profiler, collected objects included), the garbage that becomes
// GC time on the flood's guest worker.
import { Session } from 'node:inspector/promises';
import type { HeapProfiler } from 'node:inspector';
import { FLOOD_KINDS } from '../scenarios/run/run-flood.ts';
import { FloodRcvRig, benchFloodRcv, type FloodRcvSpec } from './net-flood-rcv.ts';

const rounds = Number(process.argv[2] ?? 9);

/** Bytes allocated per packet over `n` packets of a warmed-up rig (sampled every 512 bytes). */
async function bytesPerPacket(spec: FloodRcvSpec, n = 100_000): Promise<number> {
  const rig = new FloodRcvRig(spec);
  for (let i = 0; i < 4; i++) rig.round(50_000);
  const s = new Session();
  s.connect();
  // includeObjectsCollectedBy* (V8 11, not in @types/node yet): count what died young too (the
  // per-packet garbage), not only what survived.
  const params: HeapProfiler.StartSamplingParameterType & { includeObjectsCollectedByMajorGC: boolean; includeObjectsCollectedByMinorGC: boolean } = {
    samplingInterval: 512, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
  };
  await s.post('HeapProfiler.startSampling', params);
  rig.round(n);
  const { profile } = await s.post('HeapProfiler.stopSampling');
  s.disconnect();
  let total = 0;
  const walk = (node: typeof profile.head): void => {
    total += node.selfSize;
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  return total / n;
}

console.log(`guest receive of one flood packet, one thread: CPU ns per packet (median and least of ${rounds} interleaved rounds of 100k), bytes allocated per packet`);
const specs: FloodRcvSpec[] = [
  ...FLOOD_KINDS.map((kind) => ({ kind })),
  { kind: 'udp4', socketFilter: true }, { kind: 'udp6', socketFilter: true },
];
const rows = benchFloodRcv(specs, 100_000, rounds);
for (const [i, r] of rows.entries()) {
  const what = r.kind.startsWith('syn') ? `cookie SYN-ACKs sent ${r.handled}, transmitted ${r.tx}`
    : r.socketFilter ? `datagrams dropped by sf_drop.o ${r.handled}` : `datagrams read ${r.handled}`;
  const bytes = await bytesPerPacket(specs[i]!);
  const name = `${r.kind}${r.socketFilter ? '+sf_drop' : ''}`.padEnd(12);
  console.log(`  ${name} ${r.nsPerPacket.toFixed(0).padStart(5)} ns (least ${Math.min(...r.rounds)})  ${bytes.toFixed(0).padStart(5)} B/packet  of ${r.sent}: ${what}`);
}
