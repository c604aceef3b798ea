// pcapng files, written block by block here (no tshark or editcap needed): both byte orders,
// interface timestamp resolutions, enhanced and simple packet blocks, unknown blocks skipped,
// several sections, and every malformed file as a PcapError naming the offending byte.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapError, readPcap, readPcapFile, type PcapErrorCode } from '../../host/net/index.ts';
import { arpFrame, tcp4Frame, udp64 } from '../support/packets.ts';
import { PcapngBuilder as Ng } from '../support/pcapng.ts';

const frames = [udp64(), tcp4Frame({ payload: new Uint8Array(1001).fill(7) }), arpFrame()];
const tsresol = (v: number): [number, Uint8Array] => [9, Uint8Array.of(v)];

for (const le of [true, false]) {
  test(`${le ? 'little' : 'big'}-endian: enhanced packet blocks, microsecond timestamps by default`, (t) => {
    const ng = new Ng(le).shb().idb();
    frames.forEach((f, i) => ng.epb(0, 1_700_000_000_123_456n + BigInt(i) * 1_000_000n, f));
    const bytes = ng.bytes();
    t.is(new DataView(bytes.buffer).getUint32(0, true), 0x0a0d0d0a, 'the same type bytes in both orders');
    const cap = readPcap(bytes);
    t.is(cap.format, 'pcapng');
    t.like(cap.header, { bigEndian: !le, nanosecond: false, versionMajor: 1, versionMinor: 0, linktype: 1, snaplen: 0 });
    t.is(cap.packets.length, 3);
    cap.packets.forEach((p, i) => {
      t.deepEqual(new Uint8Array(p.data), frames[i]);
      t.is(p.origLen, frames[i]!.length);
      t.is(p.tsSec, 1_700_000_000 + i);
      t.is(p.tsNsec, 123_456_000);
    });
  });
}

test('if_tsresol: nanoseconds (10^-9) and a binary resolution (2^-20); if_tsoffset adds seconds', (t) => {
  const off = new Uint8Array(8);
  new DataView(off.buffer).setBigInt64(0, 100n, true);
  const cap = readPcap(new Ng().shb()
    .idb(1, 65535, [tsresol(9)])
    .idb(1, 65535, [tsresol(0x80 | 20), [14, off]])
    .epb(0, 5_000_000_123n, frames[0]!)
    .epb(1, (7n << 20n) | (1n << 19n), frames[2]!)
    .bytes());
  t.true(cap.header.nanosecond);
  t.is(cap.header.snaplen, 65535);
  t.like(cap.packets[0], { tsSec: 5, tsNsec: 123 });
  t.like(cap.packets[1], { tsSec: 107, tsNsec: 500_000_000 });
});

test('simple packet blocks take interface 0\'s snap length; unknown blocks are skipped', (t) => {
  const cap = readPcap(new Ng().shb()
    .idb(1, 100)
    .block(4, new Uint8Array(12)) // name resolution
    .block(5, new Uint8Array(20)) // interface statistics
    .block(0x40000bad, new Uint8Array(3)) // a custom block
    .spb(frames[0]!)
    .spb(frames[1]!.subarray(0, 100), frames[1]!.length)
    .bytes());
  t.is(cap.packets.length, 2);
  t.deepEqual(new Uint8Array(cap.packets[0]!.data), frames[0]);
  t.is(cap.packets[1]!.data.length, 100);
  t.is(cap.packets[1]!.origLen, frames[1]!.length);
  t.like(cap.packets[1], { tsSec: 0, tsNsec: 0 });
});

test('a second section restarts byte order and interfaces', (t) => {
  const a = new Ng(true).shb().idb().epb(0, 1_000_000n, frames[0]!).bytes();
  const b = new Ng(false).shb().idb(1, 0, [tsresol(9)]).epb(0, 2_000_000_000n, frames[2]!).bytes();
  const both = new Uint8Array(a.length + b.length);
  both.set(a);
  both.set(b, a.length);
  const cap = readPcap(both);
  t.false(cap.header.bigEndian, 'the first section\'s order');
  t.is(cap.packets.length, 2);
  t.like(cap.packets[0], { tsSec: 1, tsNsec: 0 });
  t.like(cap.packets[1], { tsSec: 2, tsNsec: 0 });
  t.deepEqual(new Uint8Array(cap.packets[1]!.data), frames[2]);
  // Interface 0 of the first section does not exist in the second.
  const c = new Ng(true).shb().idb().epb(0, 0n, frames[0]!).shb().epb(0, 0n, frames[0]!).bytes();
  const e = t.throws(() => readPcap(c), { instanceOf: PcapError });
  t.is(e?.code, 'PCAP_BAD_RECORD');
});

test('a file on disk: readPcapFile tells pcapng from pcap by itself', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-pcapng-'));
  try {
    const path = join(dir, 'cap.pcapng');
    writeFileSync(path, new Ng().shb().idb().epb(0, 0n, frames[0]!).bytes());
    t.is(readPcapFile(path).packets.length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed pcapng files give typed errors naming the offending byte', (t) => {
  const bad = (bytes: Uint8Array, code: PcapErrorCode, offset: number, opts = {}): void => {
    const e = t.throws(() => readPcap(bytes, opts), { instanceOf: PcapError });
    t.is(e?.code, code, e?.message);
    t.is((e as PcapError | undefined)?.offset, offset, e?.message);
    t.regex(e?.message ?? '', new RegExp(`^pcap at byte ${offset}: `));
  };
  const shbLen = new Ng().shb().bytes().length; // 28
  const idbLen = new Ng().idb().bytes().length; // 20
  const good = new Ng().shb().idb().epb(0, 0n, frames[0]!).bytes();
  const set32 = (b: Uint8Array, off: number, v: number): Uint8Array => {
    const c = b.slice();
    new DataView(c.buffer).setUint32(off, v, true);
    return c;
  };
  const set16 = (b: Uint8Array, off: number, v: number): Uint8Array => {
    const c = b.slice();
    new DataView(c.buffer).setUint16(off, v, true);
    return c;
  };
  const epb = shbLen + idbLen;

  bad(set32(good, 8, 0x11223344), 'PCAP_BAD_MAGIC', 8); // byte-order magic
  bad(set16(good, 12, 2), 'PCAP_BAD_VERSION', 12);
  bad(set32(good, 4, 30), 'PCAP_BAD_BLOCK', 4); // not a multiple of 4
  bad(set32(good, shbLen - 4, 32), 'PCAP_BAD_BLOCK', shbLen - 4); // trailing length differs
  bad(good.slice(0, 10), 'PCAP_TRUNCATED', 0);
  bad(good.slice(0, good.length - 4), 'PCAP_TRUNCATED', epb);
  bad(good.slice(0, epb + 6), 'PCAP_TRUNCATED', epb);
  bad(new Ng().shb().idb(113).bytes(), 'PCAP_LINKTYPE', shbLen + 8); // LINKTYPE_LINUX_SLL
  t.is(readPcap(new Ng().shb().idb(113).bytes(), { anyLinktype: true }).header.linktype, 113);
  bad(new Ng().shb().idb().epb(1, 0n, frames[0]!).bytes(), 'PCAP_BAD_RECORD', epb + 8); // no interface 1
  bad(set32(good, epb + 20, 400), 'PCAP_BAD_RECORD', epb + 20); // captured more than the block holds
  bad(set32(good, epb + 24, 10), 'PCAP_BAD_RECORD', epb + 20); // captured more than the original
  bad(new Ng().shb().spb(frames[0]!).bytes(), 'PCAP_BAD_RECORD', shbLen); // SPB without an interface
  bad(new Ng().shb().idb(1, 0, [[9, Uint8Array.of(6, 6)]]).bytes(), 'PCAP_BAD_BLOCK', shbLen + 16); // if_tsresol of 2 bytes
  // An option longer than its block.
  const opt = new Ng().shb().idb(1, 0, [tsresol(6)]).bytes();
  bad(set16(opt, shbLen + 16 + 2, 200), 'PCAP_BAD_BLOCK', shbLen + 16);
  // The first block is not a section header: not pcapng at all.
  bad(new Ng().idb().bytes(), 'PCAP_BAD_MAGIC', 0);
  t.is(readPcap(new Ng().shb().bytes()).packets.length, 0, 'a section header alone is an empty capture');
});
