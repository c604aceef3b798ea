// The worker of test/bpf/lpm-workers.test.ts: opens an LPM_TRIE and a SOCKMAP another thread
// created, runs an XDP program on both engines that looks the packet's destination up in the
// trie (the tubular pattern: bindings to a label), reads the sockmap's cookies, then changes both
// maps for the other thread to see.
import { parentPort, workerData } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import type { SharedMapState } from '../../bpf-vm/maps/shared.ts';
import { ENGINES } from '../../bpf-vm/engines.ts';
import { XdpProgramRunner } from '../../bpf-vm/prog/xdp-runner.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { asmXdp } from '../support/vm.ts';
import { udp4Frame } from '../support/packets.ts';
import { LPM_LOOKUP_DST, lpmKey4 } from './lpm-prog.ts';

const { lpm: lpmState, sockmap: smState, addrs } = workerData as { lpm: SharedMapState; sockmap: SharedMapState; addrs: string[] };
const lpm = openSharedMap(lpmState);
const sockmap = openSharedMap(smState);

const labels: Record<string, number[]> = {};
for (const engine of ENGINES) {
  const r = new XdpProgramRunner(asmXdp(LPM_LOOKUP_DST, { lpm }), { engine });
  labels[engine] = addrs.map((dst) => {
    const f = udp4Frame({ ip: { dst } });
    r.xdp.prepare(new Uint8Array(4096), 0, 4096, 256, f.length);
    r.xdp.buffer.set(f, 256);
    return r.run();
  });
}
const cookies = [0, 1, 2].map((k) => {
  const v = sockmap.lookup(Uint8Array.of(k, 0, 0, 0));
  return v === undefined ? 'none' : toHex(v);
});
// Changes for the other thread: a more specific route, and a socket taken out.
const added = lpm.update(lpmKey4(32, '198.51.100.7'), Uint8Array.of(77, 0, 0, 0), 0);
const deleted = sockmap.delete(Uint8Array.of(1, 0, 0, 0));
parentPort!.postMessage({ labels, cookies, added, deleted });
