// pktgen's flood templates (host/net/pktgen-templates.ts): TCP SYNs shaped like Linux's and UDP
// datagrams of any length, over IPv4 and IPv6, from address and port ranges to address and port
// ranges. Every frame is parsed and compared with the reference builders of test/support/packets.ts,
// and every checksum verified.
import test from 'ava';
import { Pktgen } from '../../host/net/pktgen.ts';
import { PktgenTemplate, type PktgenTemplateSpec } from '../../host/net/pktgen-templates.ts';
import { HostNetError } from '../../host/net/errors.ts';
import { internetChecksum, tcp4Frame, tcp6Frame, udp4Frame, udp6Frame } from '../support/packets.ts';

function frames(spec: PktgenTemplateSpec, n: number): Uint8Array[] {
  const g = new PktgenTemplate(spec);
  const i32 = new Int32Array(512);
  const u8 = new Uint8Array(i32.buffer);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    u8.fill(0xee); // what a previous frame left behind must not show through
    const len = g.fill(u8, i32, 8);
    out.push(u8.slice(8, 8 + len));
  }
  return out;
}

const u16 = (f: Uint8Array, o: number): number => (f[o]! << 8) | f[o + 1]!;
const u32 = (f: Uint8Array, o: number): number => ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;

/** Verifies the IP and L4 checksums the way a receiver does; returns the parsed essentials. */
function parse(f: Uint8Array): { fam: 4 | 6; proto: number; src: string; dst: string; sport: number; dport: number; l4: number; l4len: number } {
  const type = u16(f, 12);
  if (type === 0x0800) {
    if (internetChecksum(f.subarray(14, 34)) !== 0) throw new Error('bad IPv4 header checksum');
    const tot = u16(f, 16);
    const proto = f[23]!;
    const l4len = tot - 20;
    const pseudo = new Uint8Array(12);
    pseudo.set(f.subarray(26, 34), 0);
    pseudo[9] = proto;
    pseudo[10] = l4len >>> 8;
    pseudo[11] = l4len & 0xff;
    const seg = f.subarray(34, 34 + l4len);
    const csum = u16(seg, proto === 6 ? 16 : 6);
    if (!(proto === 17 && csum === 0) && internetChecksum(new Uint8Array([...pseudo, ...seg])) !== 0) throw new Error('bad L4 checksum');
    return { fam: 4, proto, src: [...f.subarray(26, 30)].join('.'), dst: [...f.subarray(30, 34)].join('.'), sport: u16(f, 34), dport: u16(f, 36), l4: 34, l4len };
  }
  if (type !== 0x86dd) throw new Error('not IP');
  const l4len = u16(f, 18);
  const proto = f[20]!;
  const pseudo = new Uint8Array(40);
  pseudo.set(f.subarray(22, 54), 0);
  pseudo[34] = l4len >>> 8;
  pseudo[35] = l4len & 0xff;
  pseudo[39] = proto;
  const seg = f.subarray(54, 54 + l4len);
  if (internetChecksum(new Uint8Array([...pseudo, ...seg])) !== 0) throw new Error('bad L4 checksum');
  if (u16(seg, proto === 6 ? 16 : 6) === 0) throw new Error('IPv6 UDP without checksum');
  const w = (o: number): string => u16(f, o).toString(16);
  return { fam: 6, proto, src: [w(22), w(24), w(26), w(28), w(30), w(32), w(34), w(36)].join(':'), dst: [w(38), w(40), w(42), w(44), w(46), w(48), w(50), w(52)].join(':'), sport: u16(f, 54), dport: u16(f, 56), l4: 54, l4len };
}

/** Linux's SYN options: mss, sackOK, TS val/ecr 0, nop, wscale. */
const LINUX_SYN_OPTS = (mss: number, tsval: number, ws: number): Uint8Array =>
  Uint8Array.of(2, 4, mss >>> 8, mss & 0xff, 4, 2, 8, 10, tsval >>> 24, (tsval >>> 16) & 0xff, (tsval >>> 8) & 0xff, tsval & 0xff, 0, 0, 0, 0, 1, 3, 3, ws);

const MACS = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };

test('IPv4 SYN: Linux\'s SYN byte for byte (74 bytes: mss 1460, sackOK, TS, nop, wscale 7; window 64240; DF)', (t) => {
  const [f] = frames({ proto: 'tcp-syn', srcIp: '192.0.2.1', dstIp: '10.0.0.1', srcPort: 40000, dstPort: 80, seq: 0x01020304, tsval: 12345 }, 1);
  t.is(f!.length, 74);
  const ref = tcp4Frame({
    eth: MACS,
    ip: { src: '192.0.2.1', dst: '10.0.0.1', ttl: 64, fragOff: 0x4000 },
    tcp: { srcPort: 40000, dstPort: 80, seq: 0x01020304, flags: 0x02, window: 64240, options: LINUX_SYN_OPTS(1460, 12345, 7) },
  });
  t.deepEqual(f, ref);
  const p = parse(f!);
  t.is(p.proto, 6);
  t.is(f![p.l4 + 12]! >>> 4, 10, 'data offset: 40 bytes');
  t.is(f![p.l4 + 13], 0x02, 'SYN only');
  t.is(u32(f!, p.l4 + 8), 0, 'ack_seq 0');
});

test('IPv4 SYN flood from ranges: addresses and ports cycle independently, seq counts up, every checksum right', (t) => {
  const fs = frames({ proto: 'tcp-syn', srcIp: '198.51.100.254', srcIpCount: 3, srcPort: 65530, srcPortCount: 5, dstIp: '10.0.0.1', dstPort: 443 }, 30);
  const seen = new Set<string>();
  fs.forEach((f, i) => {
    const p = parse(f);
    t.is(p.src, ['198.51.100.254', '198.51.100.255', '198.51.101.0'][i % 3]!);
    t.is(p.sport, 65530 + (i % 5));
    t.is(p.dport, 443);
    t.is(u32(f, p.l4 + 4), (0x10000000 + i) >>> 0);
    seen.add(`${p.src}:${p.sport}`);
    const ref = tcp4Frame({
      eth: MACS,
      ip: { src: p.src, dst: '10.0.0.1', ttl: 64, fragOff: 0x4000 },
      tcp: { srcPort: p.sport, dstPort: 443, seq: 0x10000000 + i, flags: 0x02, window: 64240, options: LINUX_SYN_OPTS(1460, 1, 7) },
    });
    t.deepEqual(f, ref, `frame ${i}`);
  });
  t.is(seen.size, 15, 'coprime counts: every (address, port) pair in 15 frames');
});

test('IPv6 SYN: 94 bytes, mss 1440 (window 64800), the last address word varies without carry', (t) => {
  const fs = frames({ proto: 'tcp-syn', family: 6, srcIp: '2001:db8::ffff:fffe', srcIpCount: 4, srcPort: 5000, srcPortCount: 2, dstIp: '2001:db8::1', dstPort: 22 }, 8);
  const srcs = ['2001:db8:0:0:0:0:ffff:fffe', '2001:db8:0:0:0:0:ffff:ffff', '2001:db8:0:0:0:0:0:0', '2001:db8:0:0:0:0:0:1'];
  fs.forEach((f, i) => {
    t.is(f.length, 94);
    const p = parse(f);
    t.is(p.fam, 6);
    t.is(p.src, srcs[i % 4]!);
    t.is(p.sport, 5000 + (i % 2));
    t.is(f[21], 64, 'hop limit');
    t.is(u32(f, 14), 0x60000000, 'version 6, no traffic class, no flow label');
    const ref = tcp6Frame({
      eth: MACS,
      ip: { src: p.src.replace(/(:0)+:0:/, '::'), dst: '2001:db8::1', hopLimit: 64 },
      tcp: { srcPort: p.sport, dstPort: 22, seq: 0x10000000 + i, flags: 0x02, window: 64800, options: LINUX_SYN_OPTS(1440, 1, 7) },
    });
    t.deepEqual(f, ref, `frame ${i}`);
  });
});

test('SYN option variants pack as tcp_options_write does; a bare SYN is padded to 60 bytes', (t) => {
  const opts = (spec: Partial<PktgenTemplateSpec>): number[] => {
    const f = frames({ proto: 'tcp-syn', ...spec }, 1)[0]!;
    parse(f);
    const doff = (f[34 + 12]! >>> 4) * 4;
    return [...f.subarray(54, 34 + doff)];
  };
  t.deepEqual(opts({ sack: false, tsval: 7 }), [2, 4, 5, 180, 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0, 1, 3, 3, 7], 'nop,nop,TS');
  t.deepEqual(opts({ timestamps: false }), [2, 4, 5, 180, 1, 1, 4, 2, 1, 3, 3, 7], 'nop,nop,sackOK');
  t.deepEqual(opts({ timestamps: false, sack: false, wscale: null, mss: 536 }), [2, 4, 2, 24]);
  const bare = frames({ proto: 'tcp-syn', timestamps: false, sack: false, wscale: null }, 1)[0]!;
  t.is(bare.length, 60, 'ETH_ZLEN');
  t.is(u16(bare, 16), 44, 'tot_len excludes the padding');
  t.deepEqual([...bare.subarray(58)], [0, 0]);
  t.is(u16(bare, 34 + 14), 64240);
  t.is(u16(frames({ proto: 'tcp-syn', window: 29200 }, 1)[0]!, 34 + 14), 29200);
});

test('IPv4 UDP: a 0-length flood (60-byte frames), any payload up to 1472 bytes, checksum on or off', (t) => {
  const fs = frames({ proto: 'udp', srcIp: '10.1.0.1', srcIpCount: 2, srcPort: 1000, srcPortCount: 3, dstIp: '10.0.0.1', dstPort: 9 }, 6);
  fs.forEach((f, i) => {
    t.is(f.length, 60);
    const p = parse(f);
    t.is(p.proto, 17);
    t.is(p.l4len, 8);
    t.is(u16(f, 38), 8, 'UDP length');
    t.is(p.src, `10.1.0.${1 + (i % 2)}`);
    t.is(p.sport, 1000 + (i % 3));
    t.not(u16(f, 40), 0, 'checksummed');
    const ref = udp4Frame({ eth: { ...MACS, padTo: 60 }, ip: { src: p.src, dst: '10.0.0.1', ttl: 64, fragOff: 0x4000 }, udp: { srcPort: p.sport, dstPort: 9 } });
    t.deepEqual(f, ref);
  });
  for (const payload of [1, 17, 18, 19, 1000, 1472]) {
    const [f] = frames({ proto: 'udp', payload, srcPort: 7, dstPort: 7 }, 1);
    t.is(f!.length, Math.max(60, 42 + payload));
    const p = parse(f!);
    t.is(p.l4len, 8 + payload);
    const ref = udp4Frame({ eth: { ...MACS, padTo: 60 }, ip: { src: '10.0.0.1', dst: '10.0.0.2', ttl: 64, fragOff: 0x4000 }, udp: { srcPort: 7, dstPort: 7 }, payload: new Uint8Array(payload) });
    t.deepEqual(f, ref, `payload ${payload}`);
  }
  const [off] = frames({ proto: 'udp', udpChecksum: false }, 1);
  t.is(u16(off!, 40), 0, 'udpChecksum: false sends 0');
  parse(off!);
  t.throws(() => new PktgenTemplate({ proto: 'udp', payload: 1473 }), { instanceOf: HostNetError, code: 'EINVAL' });
});

test('IPv6 UDP: 0-length (62 bytes) and longer, checksum always set', (t) => {
  const fs = frames({ proto: 'udp', family: 6, srcIp: 'fd00::10', srcIpCount: 3, srcPort: 2000, srcPortCount: 2, dstIp: 'fd00::1', dstPort: 53 }, 6);
  fs.forEach((f, i) => {
    t.is(f.length, 62);
    const p = parse(f);
    t.is(p.l4len, 8);
    t.is(p.src, `fd00:0:0:0:0:0:0:${(0x10 + (i % 3)).toString(16)}`);
    t.is(p.sport, 2000 + (i % 2));
    const ref = udp6Frame({ eth: MACS, ip: { src: `fd00::${(0x10 + (i % 3)).toString(16)}`, dst: 'fd00::1', hopLimit: 64 }, udp: { srcPort: p.sport, dstPort: 53 } });
    t.deepEqual(f, ref);
  });
  const [big] = frames({ proto: 'udp', family: 6, payload: 1452 }, 1);
  t.is(big!.length, 1514);
  parse(big!);
  t.throws(() => new PktgenTemplate({ proto: 'udp', family: 6, payload: 1453 }), { code: 'EINVAL' });
});

test('every source port of a full range: checksums right, a computed 0 sent as 0xffff, never 0', (t) => {
  const g = new PktgenTemplate({ proto: 'udp', srcPort: 0, srcPortCount: 65536, srcIp: '10.0.0.3' });
  const i32 = new Int32Array(16);
  const u8 = new Uint8Array(i32.buffer);
  let bad = 0;
  let zero = 0;
  let ffff = 0;
  for (let i = 0; i < 65536; i++) {
    g.fill(u8, i32, 0);
    const c = u16(u8, 40);
    if (c === 0) zero++;
    if (c === 0xffff) ffff++;
    try { parse(u8.subarray(0, 60)); } catch { bad++; }
  }
  t.is(bad, 0);
  t.is(zero, 0);
  t.is(ffff, 1, 'exactly one port sums to 0');
});

test('random sources (IPSRC_RND / UDPSRC_RND): uniform within the ranges, reproducible by seed, checksums right', (t) => {
  const spec: PktgenTemplateSpec = { proto: 'tcp-syn', srcIp: '10.9.0.0', srcIpCount: 256, srcPort: 1024, srcPortCount: 64511, random: true, seed: 42 };
  const fs = frames(spec, 4000);
  const addrs = new Set<string>();
  const ports = new Set<number>();
  let low = 0;
  for (const f of fs) {
    const p = parse(f);
    t.true(p.src.startsWith('10.9.0.'));
    t.true(p.sport >= 1024 && p.sport <= 65534);
    if (p.sport < 1024 + 64511 / 2) low++;
    addrs.add(p.src);
    ports.add(p.sport);
  }
  t.is(addrs.size, 256, 'every address of a /24 drawn within 4000 frames');
  t.true(ports.size > 3800, 'few repeats among 64511 ports');
  t.true(low > 1800 && low < 2200, `about half in the lower half (${low})`);
  t.deepEqual(frames(spec, 5), fs.slice(0, 5), 'same seed, same frames');
  t.notDeepEqual(frames({ ...spec, seed: 43 }, 5), fs.slice(0, 5));
});

test('through Pktgen: template frames, skip advances the ranges, counts and bytes', (t) => {
  const g = new Pktgen({ template: { proto: 'tcp-syn', srcPort: 100, srcPortCount: 3 }, count: 5 });
  t.is(g.size, 74);
  const i32 = new Int32Array(64);
  const u8 = new Uint8Array(i32.buffer);
  const ports: number[] = [];
  t.is(g.fill(u8, i32, 0), 74);
  ports.push(u16(u8, 34));
  t.is(g.skip(), 74);
  g.fill(u8, i32, 0);
  ports.push(u16(u8, 34));
  g.fill(u8, i32, 0);
  ports.push(u16(u8, 34));
  parse(u8.subarray(0, 74));
  t.deepEqual(ports, [100, 102, 100]);
  t.deepEqual(g.stats(), { generated: 4, generated_bytes: 4 * 74 });
  t.is(g.quota(64), 1);
  t.throws(() => new Pktgen({ template: { proto: 'udp' }, replay: [{ data: new Uint8Array(60) }] as never }), { code: 'EINVAL' });
  t.throws(() => new Pktgen({ template: { proto: 'udp', srcPort: 65535, srcPortCount: 2 } }), { code: 'EINVAL' });
  t.throws(() => new Pktgen({ template: { proto: 'tcp-syn', family: 6, srcIp: '10.0.0.1' } }), { code: 'EINVAL' });
});

test('destination ranges, IPv4 UDP: every address of a /24 on three ports (and five source ports), byte-exact, every checksum right', (t) => {
  // 256, 3 and 5 pairwise coprime: every (address, port, source port) combination in 3840 frames.
  const spec: PktgenTemplateSpec = { proto: 'udp', srcIp: '10.0.0.3', srcPort: 1024, srcPortCount: 5, dstIp: '192.0.2.0', dstIpCount: 256, dstPort: 53, dstPortCount: 3 };
  const fs = frames(spec, 3840);
  const mismatched: number[] = [];
  const seen = new Set<string>();
  const pairs = new Set<string>();
  fs.forEach((f, i) => {
    const p = parse(f);
    t.is(p.dst, `192.0.2.${i % 256}`);
    t.is(p.dport, 53 + (i % 3));
    t.is(p.sport, 1024 + (i % 5));
    seen.add(`${p.dst}:${p.dport}:${p.sport}`);
    pairs.add(`${p.dst}:${p.dport}`);
    const ref = udp4Frame({ eth: { ...MACS, padTo: 60 }, ip: { src: '10.0.0.3', dst: p.dst, ttl: 64, fragOff: 0x4000 }, udp: { srcPort: p.sport, dstPort: p.dport } });
    // Compared as buffers (ava's deepEqual per frame would cost more than the rest of the file).
    if (!Buffer.from(f).equals(ref)) mismatched.push(i);
  });
  t.deepEqual(mismatched, [], 'every frame byte-exact');
  t.is(pairs.size, 768, 'every address on every port');
  t.is(seen.size, 3840, 'and from every source port');
  // A range crossing an octet carries into the next as pktgen's dst_min..dst_max does.
  const cross = frames({ proto: 'udp', dstIp: '198.51.100.255', dstIpCount: 2 }, 2).map((f) => parse(f).dst);
  t.deepEqual(cross, ['198.51.100.255', '198.51.101.0']);
});

test('destination ranges: every port 1..65535 of one address, each once, checksums right, a computed 0 sent as 0xffff', (t) => {
  const g = new PktgenTemplate({ proto: 'udp', srcIp: '10.0.0.3', srcPort: 40000, dstIp: '198.51.100.1', dstPort: 1, dstPortCount: 65535 });
  t.is(g.dstPortCount, 65535);
  const i32 = new Int32Array(16);
  const u8 = new Uint8Array(i32.buffer);
  const seen = new Uint8Array(65536);
  let bad = 0;
  let ffff = 0;
  for (let i = 0; i < 65535; i++) {
    g.fill(u8, i32, 0);
    const dport = u16(u8, 36);
    seen[dport]!++;
    if (u16(u8, 40) === 0xffff) ffff++;
    if (i % 257 === 0) {
      try { parse(u8.subarray(0, 60)); } catch { bad++; }
    } else if (internetChecksum(Uint8Array.of(...u8.subarray(26, 34), 0, 17, 0, 8, ...u8.subarray(34, 42))) !== 0 || internetChecksum(u8.subarray(14, 34)) !== 0) {
      bad++;
    }
  }
  t.is(bad, 0);
  t.is(seen[0], 0);
  t.true(seen.subarray(1).every((n) => n === 1), 'every port once');
  t.is(ffff, 1, 'exactly one port sums to 0');
  g.fill(u8, i32, 0);
  t.is(u16(u8, 36), 1, 'then the range starts over');
});

test('destination ranges, IPv6 UDP and IPv4/IPv6 SYNs: the last address word varies without carry; byte-exact', (t) => {
  const u6 = frames({ proto: 'udp', family: 6, srcIp: 'fd00::3', dstIp: '2001:db8::ffff:fffe', dstIpCount: 4, dstPort: 443, dstPortCount: 3 }, 12);
  const dsts = ['2001:db8::ffff:fffe', '2001:db8::ffff:ffff', '2001:db8::', '2001:db8::1'];
  u6.forEach((f, i) => {
    const p = parse(f);
    t.is(p.dport, 443 + (i % 3));
    t.deepEqual(f, udp6Frame({ eth: MACS, ip: { src: 'fd00::3', dst: dsts[i % 4]!, hopLimit: 64 }, udp: { srcPort: 1024, dstPort: p.dport } }), `udp6 frame ${i}`);
  });
  const s4 = frames({ proto: 'tcp-syn', srcIp: '10.0.0.3', srcPort: 50000, srcPortCount: 7, dstIp: '192.0.2.250', dstIpCount: 9, dstPort: 8080, dstPortCount: 2 }, 126);
  s4.forEach((f, i) => {
    const p = parse(f);
    t.is(p.dst, i % 9 < 6 ? `192.0.2.${250 + (i % 9)}` : `192.0.3.${(i % 9) - 6}`);
    const ref = tcp4Frame({
      eth: MACS,
      ip: { src: '10.0.0.3', dst: p.dst, ttl: 64, fragOff: 0x4000 },
      tcp: { srcPort: 50000 + (i % 7), dstPort: 8080 + (i % 2), seq: 0x10000000 + i, flags: 0x02, window: 64240, options: LINUX_SYN_OPTS(1460, 1, 7) },
    });
    t.deepEqual(f, ref, `syn4 frame ${i}`);
  });
  t.is(new Set(s4.map((f) => { const p = parse(f); return `${p.dst}:${p.dport}:${p.sport}`; })).size, 126, '7, 9, 2 pairwise coprime: every combination');
  const s6 = frames({ proto: 'tcp-syn', family: 6, srcIp: 'fd00::3', dstIp: 'fd00::100', dstIpCount: 2, dstPort: 22, dstPortCount: 3 }, 6);
  s6.forEach((f, i) => {
    const ref = tcp6Frame({
      eth: MACS,
      ip: { src: 'fd00::3', dst: i % 2 === 0 ? 'fd00::100' : 'fd00::101', hopLimit: 64 },
      tcp: { srcPort: 1024, dstPort: 22 + (i % 3), seq: 0x10000000 + i, flags: 0x02, window: 64800, options: LINUX_SYN_OPTS(1440, 1, 7) },
    });
    t.deepEqual(f, ref, `syn6 frame ${i}`);
  });
});

test('random destinations (IPDST_RND / UDPDST_RND): within the ranges, reproducible; a range of one draws nothing', (t) => {
  const spec: PktgenTemplateSpec = { proto: 'udp', srcPort: 1024, srcPortCount: 100, dstIp: '192.0.2.0', dstIpCount: 256, dstPort: 1, dstPortCount: 65535, random: true, seed: 7 };
  const fs = frames(spec, 3000);
  const addrs = new Set<string>();
  for (const f of fs) {
    const p = parse(f);
    t.true(p.dst.startsWith('192.0.2.') && p.dport >= 1 && p.sport >= 1024 && p.sport < 1124);
    addrs.add(p.dst);
  }
  t.is(addrs.size, 256);
  t.deepEqual(frames(spec, 4), fs.slice(0, 4));
  const src: PktgenTemplateSpec = { proto: 'udp', srcIp: '10.9.0.0', srcIpCount: 256, srcPort: 1024, srcPortCount: 999, random: true, seed: 3 };
  t.deepEqual(frames({ ...src, dstIpCount: 1, dstPortCount: 1 }, 50), frames(src, 50), 'a source-only flood is the same frames as before destination ranges existed');
});

test('destination ranges are checked: the port range stays in 0..65535, counts are at least 1', (t) => {
  t.throws(() => new PktgenTemplate({ proto: 'udp', dstPort: 65535, dstPortCount: 2 }), { instanceOf: HostNetError, code: 'EINVAL', message: /destination port count/ });
  t.throws(() => new PktgenTemplate({ proto: 'udp', dstIpCount: 0 }), { code: 'EINVAL', message: /destination address count/ });
  t.throws(() => new PktgenTemplate({ proto: 'tcp-syn', dstPortCount: 1.5 }), { code: 'EINVAL' });
  t.notThrows(() => new PktgenTemplate({ proto: 'udp', dstPort: 0, dstPortCount: 65536 }));
});
