// Single-thread Mpps of the tap's two halves, each measured on its own:
//   host:  HostNet Case 1 (pktgen -> NIC buffer -> redirect.o -> devmap bulk queue -> tun_xdp_xmit),
//          with a consumer draining the ring in the same thread (recvmsg without a program, then
//          the frames go back through the recycle ring) so the pool never runs dry;
//   vhost: tun_recvmsg with xdp1.o offloaded (parse, count, drop), fed 64 frames at a time.
// Usage: npx tsx bench/tun-path.ts [seconds per round] [engine]
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadObjectFile, XdpProgramRunner, type EngineName } from '../bpf-vm/index.ts';
import { HostNet } from '../host/net/index.ts';
import {
  FramePool, MAX_TAP_BATCH, PagePool, PagePoolRemote, PtrRing, SockWait, TunRecv, TunRx, TunXmit,
} from '../tun/index.ts';
import { spawnWorkerAt } from '../scenarios/run/spawn.ts';
import { udp64 } from '../test/support/packets.ts';

const XDP_DIR = fileURLToPath(new URL('../scenarios/xdp/', import.meta.url));

interface Tap {
  fp: FramePool;
  pool: PagePool;
  remote: PagePoolRemote;
  xmit: TunXmit;
  recv: TunRecv;
}

function tap(): Tap {
  const fp = FramePool.create({ frames: 4096 });
  const pool = new PagePool(fp);
  const remote = new PagePoolRemote(fp);
  const ring = PtrRing.create();
  const xmit = new TunXmit({ ring, wait: SockWait.create(), pool });
  const recv = new TunRecv({ ring: PtrRing.open(ring.share()), pool: fp, remote, rx: new TunRx({ pool: fp, remote }) });
  return { fp, pool, remote, xmit, recv };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Case 1 host side: Mpps of frames generated and queued to the tap. */
export function benchHostCase1(seconds: number, engine: EngineName, rounds = 5): { mpps: number; rounds: number[]; pollMpps: number; perPoll: number } {
  const t = tap();
  const host = new HostNet({ case: 'xdp-redirect', pool: t.pool, tap: t.xmit, nicProgram: HostNet.redirectProgram(`${XDP_DIR}redirect.o`, 3, { engine }) });
  const out = new Uint32Array(MAX_TAP_BATCH);
  const drain = (): void => {
    for (;;) {
      const n = t.recv.tun_recvmsg(out);
      if (n === 0) break;
      for (let i = 0; i < n; i++) t.remote.free(out[i]!);
    }
    t.remote.flush();
  };
  let inPoll = 0;
  const run = (ms: number): number => {
    const start = host.pktgen.generated;
    const t0 = performance.now();
    let polls = 0;
    inPoll = 0;
    while ((polls & 63) !== 0 || performance.now() - t0 < ms) {
      const p0 = performance.now();
      host.poll();
      inPoll += performance.now() - p0;
      // The ring holds 1024: drain before it fills, as a vhost worker keeping up would.
      if ((++polls & 7) === 0) drain();
    }
    drain();
    return (host.pktgen.generated - start) / ((performance.now() - t0) * 1000);
  };
  run(300);
  const samples: number[] = [], pollSamples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const g0 = host.pktgen.generated;
    samples.push(run(seconds * 1000));
    pollSamples.push((host.pktgen.generated - g0) / (inPoll * 1000));
  }
  const c = host.conservation();
  if (!c.balanced || t.xmit.tx_dropped !== 0) throw new Error(`bench: host side lost frames ${JSON.stringify(c)}`);
  return { mpps: median(samples), rounds: samples, pollMpps: median(pollSamples), perPoll: t.xmit.xdp_xmit_frames / t.xmit.xdp_xmit_calls };
}

/** tun_recvmsg with xdp1 offloaded: Mpps of frames taken, run and dropped. */
export function benchRecvXdp1(seconds: number, engine: EngineName, rounds = 5): { mpps: number; rounds: number[] } {
  const t = tap();
  const frame = udp64();
  const handles: number[] = [];
  for (let h = t.pool.alloc(); h >= 0; h = t.pool.alloc()) handles.push(h);
  for (const h of handles) { t.fp.write(h, frame); t.pool.free(h); }
  const coll = loadObjectFile(`${XDP_DIR}xdp1.o`);
  t.recv.attachOffloaded(new XdpProgramRunner(coll.program(), { engine }));
  const ring = t.xmit.ring;
  const out = new Uint32Array(MAX_TAP_BATCH);
  const run = (ms: number): number => {
    let frames = 0, inRecv = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      for (let b = 0; b < 64; b++) {
        // Feed one batch (the frames keep their bytes: only handles move), then time recvmsg alone.
        for (let i = 0; i < MAX_TAP_BATCH; i++) ring.produce(t.pool.alloc());
        ring.publishProduced();
        const r0 = performance.now();
        t.recv.tun_recvmsg(out);
        inRecv += performance.now() - r0;
        frames += MAX_TAP_BATCH;
      }
    }
    return frames / (inRecv * 1000);
  };
  run(300);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) samples.push(run(seconds * 1000));
  if (t.recv.xdp_drop !== t.recv.consumed) throw new Error('bench: xdp1 did not drop every frame');
  return { mpps: median(samples), rounds: samples };
}

type Which = 'host' | 'recv';

/**
 * Each measurement runs in a worker of its own, as on the data path: a fresh isolate whose call
 * sites have seen one program only (run in one thread after the other, the second measurement
 * inherits polymorphic sites from the first and loses up to half its speed).
 */
function inWorker(which: Which, seconds: number, engine: EngineName): Promise<unknown> {
  const w = spawnWorkerAt(new URL(import.meta.url), { bench: { which, seconds, engine } });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => { void w.terminate(); resolve(m); });
    w.once('error', reject);
  });
}

const job = (workerData as { bench?: { which: Which; seconds: number; engine: EngineName } } | null)?.bench;
if (!isMainThread && job !== undefined) {
  parentPort!.postMessage(job.which === 'host' ? benchHostCase1(job.seconds, job.engine) : benchRecvXdp1(job.seconds, job.engine));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 1);
  const engine = (process.argv[3] ?? 'jit') as EngineName;
  const h = (await inWorker('host', seconds, engine)) as ReturnType<typeof benchHostCase1>;
  console.log(`host Case 1 (pktgen -> NIC redirect.o -> tun_xdp_xmit, ${engine}): ${h.mpps.toFixed(2)} Mpps with the drain in the same thread, ${h.pollMpps.toFixed(2)} Mpps counting poll() time only (rounds ${h.rounds.map((x) => x.toFixed(2)).join(' ')}; ${h.perPoll.toFixed(1)} frames per tun_xdp_xmit)`);
  const r = (await inWorker('recv', seconds, engine)) as ReturnType<typeof benchRecvXdp1>;
  console.log(`tun_recvmsg + offloaded xdp1.o -> drop (${engine}): ${r.mpps.toFixed(2)} Mpps (rounds ${r.rounds.map((x) => x.toFixed(2)).join(' ')})`);
}
