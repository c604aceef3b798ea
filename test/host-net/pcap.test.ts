// Classic libpcap files: the writer's output read back (both byte orders, both timestamp
// resolutions, snapped packets, a file on disk), and every malformed-file error.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapError, PcapWriter, readPcap, readPcapFile, writePcap, type PcapErrorCode } from '../../host/net/index.ts';
import { arpFrame, tcp4Frame, udp64 } from '../support/packets.ts';

const frames = [udp64(), tcp4Frame({ payload: new Uint8Array(1000).fill(7) }), arpFrame()];

for (const bigEndian of [false, true]) {
  for (const nanosecond of [false, true]) {
    test(`round trip: ${bigEndian ? 'big' : 'little'}-endian, ${nanosecond ? 'nano' : 'micro'}second timestamps`, (t) => {
      const bytes = writePcap(frames.map((data, i) => ({ data, tsSec: 1_700_000_000 + i, tsNsec: 123_456_789 * (i + 1) % 1e9 })), { bigEndian, nanosecond });
      const magic = new DataView(bytes.buffer).getUint32(0, !bigEndian);
      t.is(magic, nanosecond ? 0xa1b23c4d : 0xa1b2c3d4);
      const f = readPcap(bytes);
      t.like(f.header, { bigEndian, nanosecond, versionMajor: 2, versionMinor: 4, snaplen: 65535, linktype: 1 });
      t.is(f.format, 'pcap');
      t.is(f.packets.length, 3);
      f.packets.forEach((p, i) => {
        t.deepEqual(p.data, frames[i]);
        t.is(p.origLen, frames[i]!.length);
        t.is(p.tsSec, 1_700_000_000 + i);
        const ns = 123_456_789 * (i + 1) % 1e9;
        t.is(p.tsNsec, nanosecond ? ns : Math.floor(ns / 1000) * 1000);
      });
    });
  }
}

test('a snap length cuts packets but keeps their wire length', (t) => {
  const f = readPcap(writePcap([{ data: frames[1]! }], { snaplen: 100 }));
  t.is(f.packets[0]!.data.length, 100);
  t.is(f.packets[0]!.origLen, frames[1]!.length);
  t.deepEqual(f.packets[0]!.data, frames[1]!.subarray(0, 100));
});

test('a file on disk, written as a capture goes (many packets, chunked writes)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vxo-pcap-'));
  try {
    const path = join(dir, 'cap.pcap');
    const w = PcapWriter.toFile(path);
    const big = new Uint8Array(4096 + 64);
    for (let i = 0; i < 5000; i++) {
      const f = udp64({ seq: i });
      big.set(f, 64);
      w.write(big, 64, f.length, i, i * 1000);
    }
    w.close();
    t.is(w.packets, 5000);
    t.is(readFileSync(path).length, 24 + 5000 * (16 + 60));
    const f = readPcapFile(path);
    t.is(f.packets.length, 5000);
    t.deepEqual(new Uint8Array(f.packets[4321]!.data), udp64({ seq: 4321 }));
    t.is(f.packets[4321]!.tsNsec, 4_321_000);
    t.throws(() => w.write(big, 0, 60), { code: 'EINVAL' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.throws(() => readPcapFile(join(dir, 'missing.pcap')), { code: 'ENOENT' });
});

test('malformed files give typed errors with the offending offset', (t) => {
  const good = writePcap([{ data: udp64() }, { data: udp64() }]);
  const bad = (bytes: Uint8Array, code: PcapErrorCode, offset?: number, opts = {}): void => {
    const e = t.throws(() => readPcap(bytes, opts), { instanceOf: PcapError });
    t.is(e?.code, code, e?.message);
    if (offset !== undefined) t.is((e as PcapError | undefined)?.offset, offset);
  };
  const patch = (off: number, v: number, bytes = good): Uint8Array => {
    const b = bytes.slice();
    new DataView(b.buffer).setUint32(off, v, true);
    return b;
  };
  bad(new Uint8Array(2), 'PCAP_TRUNCATED', 0);
  bad(patch(0, 0xdeadbeef), 'PCAP_BAD_MAGIC', 0);
  // pcapng's block type, but a classic header after it: no pcapng byte-order magic at byte 8.
  bad(patch(0, 0x0a0d0d0a), 'PCAP_BAD_MAGIC', 8);
  bad(good.slice(0, 20), 'PCAP_TRUNCATED', 0);
  const v3 = good.slice();
  new DataView(v3.buffer).setUint16(4, 3, true);
  bad(v3, 'PCAP_BAD_VERSION', 4);
  bad(patch(20, 101), 'PCAP_LINKTYPE', 20);
  t.is(readPcap(patch(20, 101), { anyLinktype: true }).header.linktype, 101);
  bad(good.slice(0, 24 + 10), 'PCAP_TRUNCATED', 24);
  bad(good.slice(0, 24 + 16 + 30), 'PCAP_TRUNCATED', 40);
  bad(good.slice(0, good.length - 1), 'PCAP_TRUNCATED', 24 + 76 + 16);
  bad(patch(24 + 8, 61), 'PCAP_BAD_RECORD', 32); // incl_len > orig_len
  bad(patch(24 + 8, 300_000, patch(24 + 12, 300_000)), 'PCAP_BAD_RECORD', 32); // beyond any snap length
  bad(patch(24 + 4, 1_000_000_000), 'PCAP_BAD_RECORD', 28); // a nanosecond fraction out of range
  t.is(readPcap(good.slice(0, 24)).packets.length, 0, 'a header alone is an empty capture');
});
