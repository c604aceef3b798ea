// The tap between two threads as the lead will wire it: a host worker runs HostNet Case 1 and
// owns the frame pool; this thread plays vhost: it sleeps on the SockWait, runs tun_recvmsg with
// xdp1 offloaded, and gives frames back through its recycle ring.
import test from 'ava';
import { loadObjectFile, XdpProgramRunner } from '../../bpf-vm/index.ts';
import type { HostNetConservation, HostNetStats } from '../../host/net/index.ts';
import {
  FramePool, MAX_TAP_BATCH, PagePoolRemote, PtrRing, SockWait, TunRecv, TunRx,
} from '../../tun/index.ts';
import { u64At, XDP_DIR } from '../support/vm.ts';
import { nextMessage, openStart, spawnTsWorker } from '../workers/spawn.ts';

test('host worker (Case 1) -> tap ring -> tun_recvmsg + xdp1 in this thread: every frame accounted for', async (t) => {
  const count = 300_000;
  const fp = FramePool.create({ frames: 4096 });
  const ring = PtrRing.create();
  // The cells the lead's vhost worker would share with the guest's kick doorbell.
  const cells = new Int32Array(new SharedArrayBuffer(16));
  const wait = new SockWait({ cells, wakeIndex: 0, queuedIndex: 1, sleepingIndex: 2 });
  const done = new Int32Array(new SharedArrayBuffer(4));
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const w = spawnTsWorker('tun-host', { pool: fp.share(), ring: ring.share(), wake: wait.share(), count, done, gate, redirectObj: `${XDP_DIR}redirect.o` });
  t.is(await nextMessage<string>(w), 'ready');
  const report = nextMessage<{ ms: number; conservation: HostNetConservation; stats: HostNetStats }>(w);

  const remote = new PagePoolRemote(fp);
  const recv = new TunRecv({ ring, pool: fp, remote, rx: new TunRx({ pool: fp, remote }) });
  const coll = loadObjectFile(`${XDP_DIR}xdp1.o`);
  recv.attachOffloaded(new XdpProgramRunner(coll.program()));
  const out = new Uint32Array(MAX_TAP_BATCH);
  let timeouts = 0;
  openStart(gate);
  const t0 = performance.now();
  for (;;) {
    // One round of vhost work: clear VHOST_WORK_QUEUED, then drain what is there.
    wait.clearQueued();
    while (recv.tun_recvmsg(out) > 0 || recv.hasData());
    if (Atomics.load(done, 0) === 1 && !recv.hasData()) break;
    // vhost's busy loop (VHOST_SET_VRING_BUSYLOOP_TIMEOUT): look a while longer before sleeping,
    // since a sleep and a wake-up cost about 100 us.
    const until = performance.now() + 0.05;
    while (!recv.hasData() && performance.now() < until);
    if (recv.hasData()) continue;
    const armed = wait.arm();
    if (recv.hasData() || Atomics.load(done, 0) === 1) continue;
    if (wait.wait(armed, 5000) === 'timed-out') timeouts++;
    if (timeouts > 2) break;
  }
  const ms = performance.now() - t0;
  const r = await report;
  await w.terminate();
  t.is(timeouts, 0, 'no lost wake-up');
  t.true(r.conservation.balanced, JSON.stringify(r.conservation));
  t.is(r.conservation.generated, count);
  t.is(recv.consumed, r.stats.tap.tx_packets, 'vhost took every frame the tap queued');
  t.is(recv.xdp_drop, recv.consumed);
  t.is(u64At(coll.maps.get('rxcnt'), 17), BigInt(recv.consumed));
  // Every frame is back: on the owner's stack when it stopped, or in the recycle ring since.
  const recycled = PtrRing.open(fp.recycle[0]!).count();
  t.is(r.stats.pool.free + recycled, fp.frames);
  t.log(`host ${(count / r.ms / 1000).toFixed(2)} Mpps generated; vhost took ${recv.consumed} (${(recv.consumed / ms / 1000).toFixed(2)} Mpps) in ${recv.batches} batches; ` +
    `rx_missed ${r.stats.nic.rx_missed}, tap drops ${r.stats.tap.tx_dropped}; wake-ups ${r.stats.tap.wakeups} (+${r.stats.tap.wakeups_coalesced} coalesced), vhost sleeps ${wait.sleeps}`);
});
