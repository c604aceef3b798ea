// The host worker of the two-thread tap test: owns the frame pool, runs HostNet Case 1 (pktgen ->
// NIC -> redirect.o -> tun_xdp_xmit) for `count` frames, then raises a done flag and rings the
// vhost side's wake counter directly, as any other ringer of that cell would.
import { parentPort, workerData } from 'node:worker_threads';
import { HostNet } from '../../host/net/index.ts';
import {
  FramePool, PagePool, PtrRing, SockWait, TunXmit, type SharedFramePool, type SharedPtrRing, type SharedSockWait,
} from '../../tun/index.ts';
import { waitForStart } from './spawn.ts';

const { pool: sharedPool, ring, wake, count, done, gate, redirectObj } = workerData as {
  pool: SharedFramePool; ring: SharedPtrRing; wake: SharedSockWait; count: number; done: Int32Array; gate: Int32Array; redirectObj: string;
};
const pool = new PagePool(FramePool.open(sharedPool));
const tap = new TunXmit({ ring: PtrRing.open(ring), wait: new SockWait(wake), pool });
const host = new HostNet({ case: 'xdp-redirect', pool, tap, pktgen: { count }, nicProgram: HostNet.redirectProgram(redirectObj) });

parentPort!.postMessage('ready');
waitForStart(gate);
const t0 = performance.now();
while (!host.pktgen.done) host.poll();
const ms = performance.now() - t0;
Atomics.store(done, 0, 1);
Atomics.add(wake.cells, wake.wakeIndex, 1);
Atomics.notify(wake.cells, wake.wakeIndex);
parentPort!.postMessage({ ms, conservation: host.conservation(), stats: host.stats() });
