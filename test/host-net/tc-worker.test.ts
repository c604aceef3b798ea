// The host worker with tc programs from its worker data (HostWorkerData.tc): an object's section
// attached to the NIC's ingress with a map entry written before traffic, on both engines; the
// 'ready' and 'done' messages report the hooks and the maps (as shared state the runner dumps);
// the ledger balances with the drops tc made. A section the object lacks fails the worker.
import test from 'ava';
import type { Worker } from 'node:worker_threads';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import { HOST_CTL } from '../../host/host-loop.ts';
import type { HostNetConservation } from '../../host/net/index.ts';
import type { HostTcReport, HostTcSpec } from '../../host/net/tc-attach.ts';
import { hostTcMapDump, hostTcShowText } from '../../host/net/tc-show.ts';
import { spawnWorkerAt } from '../../scenarios/run/spawn.ts';
import { FramePool, PtrRing, SockWait } from '../../tun/index.ts';
import { ENGINES } from '../net/cls-bpf-progs.ts';

const OBJ = new URL('./tc-fixtures/host_tc.o', import.meta.url).pathname;

interface Ready { type: 'ready'; tc?: HostTcReport }
interface Done { type: 'done'; conservation: HostNetConservation; counters: Record<string, number>; tc?: HostTcReport }

function hostWorker(tc: HostTcSpec[], count: number, engine: 'interp' | 'jit'): { w: Worker; ctl: Int32Array } {
  const fp = FramePool.create({ frames: 2048 });
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  const w = spawnWorkerAt(new URL('../../host/worker.ts', import.meta.url), {
    ctl, pool: fp.share(), ring: PtrRing.create(1024).share(), wait: SockWait.create().share(), case: 'bridge', engine,
    pktgen: { count, flows: 4 }, tc,
  });
  return { w, ctl };
}

/** The worker's messages of these types, in order, until 'done' or a failure. */
function messages(w: Worker): { ready: Promise<Ready>; done: Promise<Done> } {
  let readyOk!: (m: Ready) => void, doneOk!: (m: Done) => void, fail!: (e: Error) => void;
  const failed = new Promise<never>((_, rej) => { fail = rej; });
  const ready = Promise.race([new Promise<Ready>((r) => { readyOk = r; }), failed]);
  const done = Promise.race([new Promise<Done>((r) => { doneOk = r; }), failed]);
  w.on('message', (m: { type?: string }) => {
    if (m.type === 'ready') readyOk(m as Ready);
    else if (m.type === 'done') doneOk(m as Done);
  });
  w.on('error', (e) => fail(e));
  w.on('exit', (code) => fail(new Error(`host worker exited with code ${code}`)));
  ready.catch(() => {});
  done.catch(() => {});
  return { ready, done };
}

for (const engine of ENGINES) {
  test(`${engine}: the host worker attaches a tc program by object and section to the NIC's ingress and reports hooks and maps`, async (t) => {
    const count = 2000;
    const { w, ctl } = hostWorker([{
      dev: 'nic', direction: 'ingress', object: OBJ, section: 'drop_udp_port', maps: [{ map: 'drop_port', key: '00000000', value: '09000000' }],
    }, { dev: 'br-port-tap', direction: 'egress', object: OBJ, section: 'dec_ttl' }], count, engine);
    const m = messages(w);
    const ready = await m.ready;
    t.deepEqual(ready.tc!.hooks.map((h) => [h.dev, h.direction, h.filters.map((f) => f.name)]), [
      ['eth0', 'ingress', ['host_tc.o:[tc]']], ['tap0', 'egress', ['host_tc.o:[tc]']],
    ]);
    t.deepEqual(Object.keys(ready.tc!.maps).sort(), ['drop_port', 'host_tc.o:drop_port', 'host_tc.o:verdicts', 'verdicts']);
    Atomics.store(ctl, HOST_CTL.GO, 1);
    Atomics.notify(ctl, HOST_CTL.GO);
    const done = await m.done;
    await w.terminate();
    const c = done.conservation;
    t.is(c.generated, count);
    t.is(c.terms.tc_shot, count, 'every frame goes to the discard port 9');
    t.true(c.balanced, JSON.stringify(c));
    const nic = done.tc!.hooks[0]!;
    t.like(nic, { dev: 'eth0', direction: 'ingress', packets: count, shot: count });
    t.like(nic.filters[0], { prog: 'drop_udp_port', section: 'tc', engine, runs: count, shot: count });
    t.is(done.counters['tc_eth0_ingress_shot'], count);
    // The runner's view of the program's map: [1] counts the drops.
    const verdicts = openSharedMap(done.tc!.maps['verdicts']!);
    const v = verdicts.lookup(new Uint8Array([1, 0, 0, 0]));
    t.is(v === undefined ? undefined : new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true), BigInt(count));
    // As the runner prints them: bpftool net's tc lines, bpftool map dump in hex.
    t.regex(hostTcShowText(done.tc!), /^tc:\neth0\(2\) clsact\/ingress host_tc\.o:\[tc\] id \d+\ntap0\(3\) clsact\/egress host_tc\.o:\[tc\] id \d+\n$/);
    const dump = hostTcMapDump(done.tc!);
    t.deepEqual(dump['drop_port'], { type: 'array', entries: [{ key: '00000000', value: '09000000' }] });
    t.deepEqual(dump['verdicts']!.entries[1], { key: '01000000', value: 'd007000000000000' }, '2000 drops, a little-endian u64');
  });
}

test('a section the object lacks fails the host worker with the reason', async (t) => {
  const { w } = hostWorker([{ dev: 'nic', direction: 'ingress', object: OBJ, section: 'nope' }], 10, 'interp');
  // The error crosses the thread boundary as a clone: its message is what the runner shows.
  const err = await messages(w).ready.then(() => undefined, (e: unknown) => e as { message?: string });
  t.regex(String(err?.message), /no program or section named 'nope'/);
  await w.terminate();
});
