// pktgen's frames: the benchmark's 64-byte UDP frame byte for byte, valid IPv4 checksums,
// sequence numbers, flows, sizes, pacing by the caller's clock, a packet count, pcap replay.
import test from 'ava';
import { HostNetError, Pktgen, PKTGEN_OFF, writePcap, readPcap } from '../../host/net/index.ts';
import { internetChecksum, udp4Frame, udp64, arpFrame } from '../support/packets.ts';

const frameBuf = (): { u8: Uint8Array; i32: Int32Array } => {
  const i32 = new Int32Array(1024);
  return { u8: new Uint8Array(i32.buffer), i32 };
};

function take(g: Pktgen, n: number): Uint8Array[] {
  const { u8, i32 } = frameBuf();
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = g.fill(u8, i32, 64);
    out.push(u8.slice(64, 64 + len));
  }
  return out;
}

const ipHeaderValid = (f: Uint8Array): boolean => internetChecksum(f.subarray(14, 34)) === 0;

test('the default frame is the benchmark\'s 60-byte pktgen UDP frame, its sequence number counting up', (t) => {
  const g = new Pktgen();
  const fs = take(g, 3);
  t.deepEqual(fs[0], udp64());
  t.deepEqual(fs[2], udp64({ seq: 2 }));
  t.true(fs.every(ipHeaderValid));
  t.deepEqual(g.stats(), { generated: 3, generated_bytes: 180 });
});

test('flows vary the UDP source port, round robin', (t) => {
  const g = new Pktgen({ flows: 4, srcPort: 1000 });
  const ports = take(g, 9).map((f) => (f[PKTGEN_OFF.UDP_SRC]! << 8) | f[PKTGEN_OFF.UDP_SRC + 1]!);
  t.deepEqual(ports, [1000, 1001, 1002, 1003, 1000, 1001, 1002, 1003, 1000]);
});

test('flows over the source address keep the IPv4 checksum valid', (t) => {
  const g = new Pktgen({ flows: 300, flowField: 'ip-src', srcIp: '10.0.0.250' });
  const fs = take(g, 300);
  t.true(fs.every(ipHeaderValid));
  const srcs = new Set(fs.map((f) => f.subarray(26, 30).join('.')));
  t.is(srcs.size, 300);
  t.true(srcs.has('10.0.0.250') && srcs.has('10.0.1.0') && srcs.has('10.0.1.37'));
  // Each frame equals the one the reference builder makes for its address (sequence number aside).
  const f = fs[10]!;
  const ref = udp4Frame({ ip: { src: '10.0.1.4', ttl: 32, l4Checksum: false }, udp: { srcPort: 9, dstPort: 9 }, payload: new Uint8Array(18) });
  t.deepEqual(f.subarray(0, 42), ref.subarray(0, 42));
});

test('sizes from 60 to 1514 bytes, lengths in the headers; others refused', (t) => {
  for (const size of [60, 61, 128, 1514]) {
    const [f] = take(new Pktgen({ size }), 1);
    t.is(f!.length, size);
    t.is((f![16]! << 8) | f![17]!, size - 14);
    t.is((f![38]! << 8) | f![39]!, size - 34);
    t.true(ipHeaderValid(f!));
  }
  for (const size of [59, 1515, 100.5]) t.throws(() => new Pktgen({ size }), { instanceOf: HostNetError, code: 'EINVAL' });
  t.throws(() => new Pktgen({ srcMac: 'zz' }), { code: 'EINVAL' });
  t.throws(() => new Pktgen({ flows: 0 }), { code: 'EINVAL' });
  t.throws(() => new Pktgen().fill(new Uint8Array(256), new Int32Array(64), 2), { code: 'EINVAL' });
});

test('pacing follows the clock it is given: ahead of schedule the quota is 0, never a wait', (t) => {
  let now = 1000;
  const g = new Pktgen({ rate: 1000, clock: () => now });
  const { u8, i32 } = frameBuf();
  const send = (n: number): void => { for (let i = 0; i < n; i++) g.fill(u8, i32, 0); };
  t.is(g.quota(64), 1, 'the first frame leaves at once');
  send(1);
  t.is(g.quota(64), 0);
  now += 10; // 10 ms at 1000 pps: 10 more frames due
  t.is(g.quota(64), 10);
  send(4);
  t.is(g.quota(64), 6);
  now += 1000; // far behind: the quota is capped by the budget
  t.is(g.quota(64), 64);
  const unpaced = new Pktgen({ count: 100 });
  t.is(unpaced.quota(64), 64);
  for (let i = 0; i < 90; i++) unpaced.skip();
  t.is(unpaced.quota(64), 10);
  for (let i = 0; i < 10; i++) unpaced.fill(u8, i32, 0);
  t.is(unpaced.quota(64), 0);
  t.true(unpaced.done);
  t.is(unpaced.generated, 100);
});

test('a lost frame (skip) still takes its sequence number', (t) => {
  const g = new Pktgen();
  g.skip();
  t.deepEqual(take(g, 1)[0], udp64({ seq: 1 }));
});

test('replay cycles through the frames of a capture', (t) => {
  const src = [udp64({ seq: 5 }), arpFrame(), udp4Frame({ payload: new Uint8Array(1000) })];
  const g = new Pktgen({ replay: readPcap(writePcap(src.map((data) => ({ data })))).packets });
  const fs = take(g, 7);
  t.deepEqual(fs.map((f) => f.length), [60, 42, 1042, 60, 42, 1042, 60]);
  t.deepEqual(fs[1], arpFrame());
  t.deepEqual(fs[5], src[2]);
  t.is(g.generated_bytes, 60 * 3 + 42 * 2 + 1042 * 2);
  t.throws(() => new Pktgen({ replay: [] }), { code: 'EINVAL' });
});
