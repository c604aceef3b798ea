// RINGBUF maps: creation rules, the helpers on both engines, the verifier's rules for reserved
// records (references released on every path), and the user-space consumer.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { ENGINES } from '../bpf-vm/engines.ts';
import { BpfError } from '../bpf-vm/errors.ts';
import { toHex } from '../bpf-vm/hex.ts';
import { createMap } from '../bpf-vm/maps/create.ts';
import { BPF_MAP_TYPE, type BpfMap } from '../bpf-vm/maps/map.ts';
import { RingBufConsumer, drainRingBuf } from '../bpf-vm/maps/ringbuf-consumer.ts';
import { RingBufMap } from '../bpf-vm/maps/ringbuf.ts';
import { loadObjectFile } from '../bpf-vm/prog/collection.ts';
import { bpfProgTestRun } from '../bpf-vm/prog/test-run.ts';
import { VerifierError } from '../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../bpf-vm/verifier/index.ts';
import { asmXdp } from './support/vm.ts';
import { RINGBUF_REJECTS } from './ringbuf/cases.ts';
import { nextMessage, openStart, spawnTsWorker } from './workers/spawn.ts';

const DIR = fileURLToPath(new URL('./fixtures/ringbuf/', import.meta.url));
const frame = (): Uint8Array => new Uint8Array(60).map((_, i) => i + 1);
const rbSpec = (maxEntries: number, name = 'rb') =>
  ({ name, type: BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries, flags: 0 });

function ringOf(coll: { maps: ReadonlyMap<string, BpfMap> }, name: string): BpfMap {
  const m = coll.maps.get(name);
  if (m === undefined) throw new Error(`no map ${name}`);
  return m;
}

test('max_entries must be a power-of-two multiple of the page size, key and value sizes 0', (t) => {
  for (const n of [0, 100, 2048, 4096 * 3, 4097]) {
    const e = t.throws(() => createMap(rbSpec(n)));
    t.true(e instanceof BpfError && e.code === 'EINVAL', `${n}`);
    t.regex(e?.message ?? '', /power of two multiple of the page size/);
  }
  t.throws(() => createMap({ ...rbSpec(4096), keySize: 4 }), { message: /key_size 4 and value_size 0 must be 0/ });
  t.throws(() => createMap({ ...rbSpec(4096), valueSize: 8 }), { message: /must be 0/ });
  t.throws(() => createMap({ ...rbSpec(4096), flags: 1 }), { message: /map_flags 0x1/ });
  t.true(createMap(rbSpec(4096 * 4)) instanceof RingBufMap);
});

test('user-space map calls on a ring fail as the kernel\'s (ENOTSUPP)', (t) => {
  const m = createMap(rbSpec(4096));
  t.is(m.lookup(new Uint8Array(0)), undefined);
  t.is(m.update(new Uint8Array(0), new Uint8Array(0)), -524);
  t.is(m.delete(new Uint8Array(0)), -524);
  t.is(m.getNextKey(undefined), undefined);
});

for (const engine of ENGINES) {
  test(`${engine}: reserve/submit, discard and output produce the records in order`, (t) => {
    const coll = loadObjectFile(`${DIR}ringbuf_events.o`);
    const r = bpfProgTestRun(coll.program(), { dataIn: frame(), engine });
    // XDP_PASS + the bytes in the ring: 32 (24-byte record), 32 (discarded), 16 (4-byte output).
    t.is(r.retval, 2 + 80);
    const ring = ringOf(coll, 'events');
    t.deepEqual(drainRingBuf(ring).map(toHex), ['88776655443322113c000000010203040506070800000000', '3c000000']);
    // Consumed: the next run finds an empty ring again.
    t.is(bpfProgTestRun(coll.program(), { dataIn: frame(), engine }).retval, 82);
    t.is(drainRingBuf(ring).length, 2);
  });

  test(`${engine}: reserve returns NULL when the ring is full; consuming makes room`, (t) => {
    const coll = loadObjectFile(`${DIR}ringbuf_fill.o`);
    const prog = coll.program();
    t.is(bpfProgTestRun(prog, { dataIn: frame(), engine }).retval, 36);
    t.is(bpfProgTestRun(prog, { dataIn: frame(), engine }).retval, 0);
    const ring = ringOf(coll, 'ring');
    const recs = drainRingBuf(ring);
    t.is(recs.length, 36);
    recs.forEach((rec, i) => {
      t.is(rec.length, 100);
      t.is(new DataView(rec.buffer).getUint32(0, true), i);
    });
    // The ring has wrapped: records now cross its end and are read whole.
    for (let round = 0; round < 5; round++) {
      const n = bpfProgTestRun(prog, { dataIn: frame(), engine }).retval;
      t.true(n >= 36 && n <= 37, `round ${round}: ${n}`);
      const got = drainRingBuf(ring);
      t.is(got.length, n);
      got.forEach((rec, i) => t.is(new DataView(rec.buffer).getUint32(0, true), i));
    }
  });
}

test('a record crossing the end of the ring reads the same contiguously and modulo the size', (t) => {
  const ring = createMap(rbSpec(4096)) as RingBufMap;
  const c = new RingBufConsumer(ring);
  const payload = (k: number) => new Uint8Array(1000).map((_, i) => (i * 7 + k) & 0xff);
  for (let k = 0; k < 3; k++) t.is(ring.output(payload(k), 0, 1000, 0), 0);
  t.is(c.consume(() => {}), 3);
  // producer at 3024: the next 1008-byte record spans 3024..4032, the one after wraps.
  for (let k = 3; k < 6; k++) t.is(ring.output(payload(k), 0, 1000, 0), 0);
  const seen: Uint8Array[] = [];
  t.is(c.consume((s) => { seen.push(s); }), 3);
  seen.forEach((s, i) => t.deepEqual(s, payload(i + 3)));
  // The wrapped part was copied to the start as the kernel's double mapping shows it.
  const start = 4032 + 8;
  for (let i = 0; i < 1000; i++) t.is(ring.values[(start + i) % 4096], payload(4)[i]);
});

test('bpf_ringbuf_output: unknown flags are EINVAL, a full ring EAGAIN; query reports positions', (t) => {
  const ring = createMap(rbSpec(4096)) as RingBufMap;
  t.is(ring.output(new Uint8Array(8), 0, 8, 4), -22);
  t.is(ring.output(new Uint8Array(4000), 0, 4000, 0), 0);
  t.is(ring.output(new Uint8Array(100), 0, 100, 0), -11);
  t.is(ring.query(0), 4008);
  t.is(ring.query(1), 4096);
  t.is(ring.query(2), 0);
  t.is(ring.query(3), 4008);
  t.is(ring.query(9), 0);
});

test('a consumer stops at a record still BUSY, and skips discarded ones', (t) => {
  const ring = createMap(rbSpec(4096)) as RingBufMap;
  const a = ring.reserve(8);
  const b = ring.reserve(8);
  const c = ring.reserve(8);
  ring.values[b] = 0xbb;
  ring.commit(b, 0, false);
  ring.commit(c, 0, true);
  const cons = new RingBufConsumer(ring);
  t.is(cons.consume(() => {}), 0);
  ring.values[a] = 0xaa;
  ring.commit(a, 0, false);
  const got: string[] = [];
  t.is(cons.consume((s) => { got.push(toHex(s)); }), 2);
  t.deepEqual(got, ['aa00000000000000', 'bb00000000000000']);
  t.is(ring.consumerPos(), 48);
});

for (const c of RINGBUF_REJECTS) {
  test(`verifier rejects ${c.name}`, (t) => {
    const rb = createMap(rbSpec(4096));
    const arr = createMap({ name: 'arr', type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 });
    const prog = asmXdp(c.asm, { rb, arr });
    const e = t.throws(() => verifyProgram(prog, { logLevel: 1 }));
    t.true(e instanceof VerifierError);
    const v = e as VerifierError;
    t.true(v.message.includes(c.expect) || v.log.includes(c.expect), `${v.message}\n${v.log.split('\n').slice(-6).join('\n')}`);
  });
}

test('the verifier log shows reserved records as the kernel prints them', (t) => {
  const coll = loadObjectFile(`${DIR}ringbuf_events.o`);
  const r = verifyProgram(coll.program(), { logLevel: 2 });
  t.regex(r.log, /R0=ringbuf_mem_or_null\(id=2,ref_obj_id=2,sz=24\)/);
  t.regex(r.log, /ringbuf_mem\(ref_obj_id=2,sz=24\)/);
});

test.serial('two workers fill one ring (interp and JIT) while a third consumes: nothing lost, torn or reordered', async (t) => {
  const ring = createMap(rbSpec(4096, 'conc'));
  const gate = new Int32Array(new SharedArrayBuffer(16));
  const records = 20_000;
  const producers = ENGINES.map((engine, id) =>
    spawnTsWorker('ringbuf-producer', { state: ring.share(), control: gate, id, records, engine }));
  const consumer = spawnTsWorker('ringbuf-consumer', { state: ring.share(), control: gate, producers: producers.length, records });
  const all = [...producers, consumer];
  await Promise.all(all.map((w) => nextMessage<string>(w)));
  const results = all.map((w) => nextMessage<{ full?: number; errors?: string[]; received?: number[]; polls?: number; left?: number }>(w));
  openStart(gate);
  try {
    const res = await Promise.all(results);
    const c = res[producers.length]!;
    t.deepEqual(c.errors, []);
    t.deepEqual(c.received, producers.map(() => records));
    t.is(c.left, 0);
    t.log(`ring full ${res.slice(0, producers.length).map((r) => r.full).join('/')} times; consumer polled ${c.polls} times`);
  } finally {
    await Promise.all(all.map((w) => w.terminate()));
  }
});
