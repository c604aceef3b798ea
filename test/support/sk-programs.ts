// What the tests of scenarios/sk's programs share (test/bpf/sk-programs*.test.ts and
// test/kernel/sk-programs.test.ts): the objects, the verdict and counter numbers of the C sources,
// and the binding key and value as scenarios/sk/README.md lays them out, encoded independently of
// the dispatcher library (scenarios/dispatch) so that the programs are checked against the README.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { toHex } from '../../bpf-vm/hex.ts';
import {
  IPPROTO_HOPOPTS, TCP_ACK, TCP_RST, TCP_SYN, arpFrame, parseIpv4, parseIpv6, tcp4Frame, tcp6Frame, udp4Frame,
} from './packets.ts';

export const SK_DIR = fileURLToPath(new URL('../../scenarios/sk/', import.meta.url));
export const OBJ = {
  dispatch: join(SK_DIR, 'dispatch.o'),
  bench: join(SK_DIR, 'sk_lookup_bench.o'),
  firewall: join(SK_DIR, 'xdp_sk_firewall.o'),
  tproxy: join(SK_DIR, 'tc_tproxy.o'),
  sfDrop: join(SK_DIR, 'sf_drop.o'),
  syncookie: join(SK_DIR, 'tcp_custom_syncookie.o'),
  synProxy: join(SK_DIR, 'syn_proxy.o'),
} as const;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SK_DROP = 0;
export const SK_PASS = 1;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;

// Counter indices, as the enums in the C sources (README.md).
export const FW = {
  PASS_NOT_IP: 0, PASS_OTHER: 1, PASS_FRAGMENT: 2, PASS_MULTICAST: 3, PASS_TCP_LISTENER: 4,
  PASS_TCP_SOCKET: 5, PASS_UDP: 6, DROP_TCP: 7, DROP_UDP: 8, DROP_TRUNCATED: 9, NR: 10,
} as const;
export const M = {
  LOOKUPS: 0, NO_BINDING: 1, MISSING_SOCKET: 2, ASSIGNED: 3, ERR_EINVAL: 4, ERR_ESOCKTNOSUPPORT: 5,
  ERR_EPROTOTYPE: 6, ERR_EAFNOSUPPORT: 7, ERR_EEXIST: 8, ERR_OTHER: 9, BAD_DESTINATION: 10, NR: 11,
} as const;
export const T = {
  NOT_SERVICE: 0, ESTABLISHED: 1, PROXY: 2, NO_PROXY: 3, ERR_EINVAL: 4, ERR_EOPNOTSUPP: 5,
  ERR_ENETUNREACH: 6, ERR_ESOCKTNOSUPPORT: 7, ERR_ENOENT: 8, ERR_OTHER: 9, NR: 10,
} as const;
export const B = { RUNS: 0, HITS: 1, MISSES: 2, NR: 3 } as const;

export function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** struct bind_key (23 bytes, packed): prefixlen u32 LE, protocol u8, port be16, address[16] (IPv4 v4-mapped). */
export function bindKey(protocol: number, port: number, addr: string, addrPrefix: number): Uint8Array {
  const v4 = !addr.includes(':');
  const a = new Uint8Array(16);
  if (v4) {
    a[10] = 0xff;
    a[11] = 0xff;
    a.set(parseIpv4(addr), 12);
  } else {
    a.set(parseIpv6(addr));
  }
  const k = new Uint8Array(23);
  const dv = new DataView(k.buffer);
  dv.setUint32(0, 8 + 16 + (v4 ? 96 : 0) + addrPrefix, true);
  k[4] = protocol;
  dv.setUint16(5, port, false);
  k.set(a, 7);
  return k;
}

/** struct binding: id u32, prefixlen u32 (the key's, so port and port-0 matches compare). */
export function binding(id: number, key: Uint8Array): Uint8Array {
  const v = new Uint8Array(8);
  const dv = new DataView(v.buffer);
  dv.setUint32(0, id, true);
  dv.setUint32(4, new DataView(key.buffer, key.byteOffset).getUint32(0, true), true);
  return v;
}

// ---------------------------------------------------------------------------------------------
// tcp_custom_syncookie (README.md "tcp_custom_syncookie"): its counters, MSS tables, key map and
// cookie, computed here from the README's definition rather than from the program.

export const TC_ACT_REDIRECT = 7;

/** Counter indices of syncookie_stats (enum sc_stat). */
export const SC = {
  SYN: 0, SYNACK_SENT: 1, SYN_DROPPED: 2, ACK: 3, ACK_VALID: 4, ACK_PREVIOUS_KEY: 5, ACK_INVALID: 6,
  ASSIGNED: 7, KFUNC_EINVAL: 8, KFUNC_ENETUNREACH: 9, KFUNC_ENOMEM: 10, KFUNC_EOPNOTSUPP: 11,
  KFUNC_OTHER: 12, NOT_TCP_SOCK: 13, NR: 14,
} as const;

/** The kernel's classic cookie MSS tables, which the program uses. */
export const SC_MSSTAB4 = [536, 1300, 1440, 1460] as const;
export const SC_MSSTAB6 = [1220, 1420, 1440, 8940] as const;
/** The window scale the program announces and hands the kfunc as rcv_wscale. */
export const SC_SYNACK_WSCALE = 7;
export const SC_NO_WSCALE = 0xf;

export interface SyncookieKey {
  k0: bigint;
  k1: bigint;
}

/** A syncookie_keys value: k0, k1 as u64 LE. */
export function syncookieKeyBytes(k: SyncookieKey): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, k.k0, true);
  dv.setBigUint64(8, k.k1, true);
  return b;
}

const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;

/** SipHash-2-4 over whole u64 words (the byte length is 8 per word). */
export function siphash24(words: readonly bigint[], k: SyncookieKey): bigint {
  let v0 = 0x736f6d6570736575n ^ k.k0;
  let v1 = 0x646f72616e646f6dn ^ k.k1;
  let v2 = 0x6c7967656e657261n ^ k.k0;
  let v3 = 0x7465646279746573n ^ k.k1;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const absorb = (m: bigint): void => {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  };
  for (const w of words) absorb(w);
  absorb(BigInt(words.length * 8) << 56n);
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

function be64(b: Uint8Array, off: number): bigint {
  return new DataView(b.buffer, b.byteOffset).getBigUint64(off, false);
}

/**
 * The cookie's 32-bit hash: SipHash-2-4 over the client's address, ours (each as big-endian u64
 * words: one word for both IPv4 addresses, two per IPv6 address), then clientIsn:sport:dport.
 */
export function syncookieHash(client: Uint8Array, server: Uint8Array, sport: number, dport: number, clientIsn: number, k: SyncookieKey): number {
  const words: bigint[] = [];
  if (client.length === 4) {
    const a = new Uint8Array(8);
    a.set(client, 0);
    a.set(server, 4);
    words.push(be64(a, 0));
  } else {
    words.push(be64(client, 0), be64(client, 8), be64(server, 0), be64(server, 8));
  }
  words.push((BigInt(clientIsn >>> 0) << 32n) | (BigInt(sport) << 16n) | BigInt(dport));
  return Number(siphash24(words, k) & 0xffffffffn);
}

export interface CookieFields {
  mssind: number;
  ecn: boolean;
  sack: boolean;
  /** SC_NO_WSCALE when the SYN had no window scale option. */
  wscale: number;
}

/** The ISN: hash[31:8] | mssind << 6 | ECN << 5 | SACK << 4 | WScale. */
export function syncookieIsn(hash: number, f: CookieFields): number {
  return ((hash & 0xffffff00) | (f.mssind << 6) | (f.ecn ? 0x20 : 0) | (f.sack ? 0x10 : 0) | f.wscale) >>> 0;
}

export function decodeCookie(isn: number): CookieFields {
  return { mssind: (isn >>> 6) & 3, ecn: (isn & 0x20) !== 0, sack: (isn & 0x10) !== 0, wscale: isn & 0xf };
}

// SYNs and the SYN-ACKs README.md says the program answers them with.

const SC_TCP_ECE = 0x40;
const SC_TCP_CWR = 0x80;

export interface SynCase {
  name: string;
  v6: boolean;
  mss?: number;
  wscale?: number;
  sack?: boolean;
  /** The client's TSval; a timestamp option only when given. */
  tsval?: number;
  tsecr?: number;
  ecn?: boolean;
  /** Options in Windows' order (MSS, NOP, WS, NOP, NOP, SACK_PERM) rather than Linux's. */
  windowsOrder?: boolean;
}

/** SYNs of several shapes (test/kernel and test/bpf run them all). */
export const SYNCOOKIE_SYNS: readonly SynCase[] = [
  { name: 'v4 Linux options', v6: false, mss: 1460, wscale: 7, sack: true, tsval: 0x01020304 },
  { name: 'v4 no timestamps, Windows order', v6: false, mss: 1460, wscale: 8, sack: true, windowsOrder: true },
  { name: 'v4 bare SYN', v6: false },
  { name: 'v4 ECN, small MSS, big shift', v6: false, mss: 1400, wscale: 15, tsval: 77, ecn: true },
  { name: 'v4 TSecr set: no timestamps', v6: false, mss: 1300, tsval: 5, tsecr: 9, sack: true },
  { name: 'v6 Linux options', v6: true, mss: 1440, wscale: 9, sack: true, tsval: 0xfffffff0 },
  { name: 'v6 jumbo MSS, no SACK', v6: true, mss: 8960, wscale: 0, tsval: 1 },
];

/** The addresses, ports and client ISN of SYNCOOKIE_SYNS and of the ACKs answering them. */
export const SC_CLIENT4 = '192.0.2.10', SC_SERVER4 = '192.0.2.1';
export const SC_CLIENT6 = '2001:db8::10', SC_SERVER6 = '2001:db8::1';
export const SC_CPORT = 40312, SC_SPORT = 8080, SC_ISN = 0x3ade68b1;

function synOptions(c: SynCase): Uint8Array {
  const o: number[] = [];
  if (c.mss !== undefined) o.push(2, 4, c.mss >> 8, c.mss & 0xff);
  if (c.windowsOrder) {
    if (c.wscale !== undefined) o.push(1, 3, 3, c.wscale);
    if (c.sack) o.push(1, 1, 4, 2);
  } else {
    // Linux's order: MSS, SACK_PERM + TS (or NOP, NOP + TS), NOP + WS.
    if (c.tsval !== undefined) o.push(...(c.sack ? [4, 2] : [1, 1]), 8, 10, ...be32Bytes(c.tsval), ...be32Bytes(c.tsecr ?? 0));
    else if (c.sack) o.push(1, 1, 4, 2);
    if (c.wscale !== undefined) o.push(1, 3, 3, c.wscale);
  }
  while (o.length % 4 !== 0) o.push(1);
  return Uint8Array.from(o);
}

/** A u32 as its 4 big-endian bytes (option bytes). */
export function be32Bytes(x: number): number[] {
  return [(x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff];
}

export function synFrame(c: SynCase): Uint8Array {
  const tcp = { srcPort: SC_CPORT, dstPort: SC_SPORT, seq: SC_ISN, flags: TCP_SYN | (c.ecn ? SC_TCP_ECE | SC_TCP_CWR : 0), window: 64240, options: synOptions(c) };
  return c.v6
    ? tcp6Frame({ eth: {}, ip: { src: SC_CLIENT6, dst: SC_SERVER6, hopLimit: 63, flowLabel: 0x12345 }, tcp })
    : tcp4Frame({ eth: {}, ip: { src: SC_CLIENT4, dst: SC_SERVER4, ttl: 63, id: 4242, tos: 0x10, fragOff: 0x4000 }, tcp });
}

/** The SYN-ACK README.md defines for a SYN, with the TSval the program drew (its random part is not ours to predict). */
export function expectedSynAck(c: SynCase, key: SyncookieKey, tsvalDrawn: number | undefined): { frame: Uint8Array; cookie: number } {
  const client = c.v6 ? parseIpv6(SC_CLIENT6) : parseIpv4(SC_CLIENT4);
  const server = c.v6 ? parseIpv6(SC_SERVER6) : parseIpv4(SC_SERVER4);
  const hash = syncookieHash(client, server, SC_CPORT, SC_SPORT, SC_ISN, key);
  const tab = c.v6 ? SC_MSSTAB6 : SC_MSSTAB4;
  const mss = c.mss ?? 0;
  let mssind = 3;
  while (mssind > 0 && mss < tab[mssind]!) mssind--;
  const ts = c.tsval !== undefined && (c.tsecr ?? 0) === 0;
  const wscale = c.wscale === undefined ? SC_NO_WSCALE : Math.min(c.wscale, 14);
  const cookie = syncookieIsn(hash, { mssind, ecn: c.ecn === true, sack: c.sack === true, wscale });
  const o: number[] = [2, 4, tab[mssind]! >> 8, tab[mssind]! & 0xff];
  if (wscale !== SC_NO_WSCALE) o.push(1, 3, 3, SC_SYNACK_WSCALE);
  if (ts) {
    if (tsvalDrawn === undefined || (tsvalDrawn & 0xff) !== (hash & 0xff)) throw new Error(`TSval ${tsvalDrawn} does not carry the hash's low byte ${hash & 0xff}`);
    o.push(...(c.sack ? [4, 2] : [1, 1]), 8, 10, ...be32Bytes(tsvalDrawn), ...be32Bytes(c.tsval ?? 0));
  } else if (c.sack) {
    o.push(1, 1, 4, 2);
  }
  const tcp = { srcPort: SC_SPORT, dstPort: SC_CPORT, seq: cookie, ack: (SC_ISN + 1) >>> 0, flags: TCP_SYN | TCP_ACK | (c.ecn ? SC_TCP_ECE : 0), window: 65535, options: Uint8Array.from(o) };
  // MACs swapped: packets.ts's defaults are src ...:01, dst ...:02.
  const eth = { src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' };
  const frame = c.v6
    ? tcp6Frame({ eth, ip: { src: SC_SERVER6, dst: SC_CLIENT6, hopLimit: 64 }, tcp })
    : tcp4Frame({ eth, ip: { src: SC_SERVER4, dst: SC_CLIENT4, ttl: 64, id: 0, fragOff: 0x4000 }, tcp });
  return { frame, cookie };
}

/** The TSval of a SYN-ACK (undefined without a timestamp option), found by walking its options. */
export function synAckTsval(frame: Uint8Array): number | undefined {
  const v = new DataView(frame.buffer, frame.byteOffset);
  const th = 14 + (v.getUint16(12) === 0x86dd ? 40 : 20);
  const end = th + (frame[th + 12]! >> 4) * 4;
  for (let p = th + 20; p < end;) {
    const kind = frame[p]!;
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (kind === 8) return v.getUint32(p + 2);
    p += frame[p + 1]!;
  }
  return undefined;
}

/** The frame with the TSval's random upper 24 bits zeroed, for comparing runs. */
export function maskTsval(frame: Uint8Array): string {
  const out = frame.slice();
  const v = new DataView(out.buffer);
  const th = 14 + (v.getUint16(12) === 0x86dd ? 40 : 20);
  const end = th + (out[th + 12]! >> 4) * 4;
  for (let p = th + 20; p < end;) {
    const kind = out[p]!;
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (kind === 8) {
      out[p + 2] = out[p + 3] = out[p + 4] = 0;
      // The TCP checksum covers the TSval: zero it too, the expected frame's is checked separately.
      out[th + 16] = out[th + 17] = 0;
    }
    p += out[p + 1]!;
  }
  return toHex(out);
}

/** Frames the program leaves to the stack (TC_ACT_OK, no counter moves), by what they are. */
export function syncookiePassFrames(): { name: string; frame: Uint8Array }[] {
  const v4 = { src: SC_CLIENT4, dst: SC_SERVER4 };
  const tcp = { srcPort: SC_CPORT, dstPort: SC_SPORT, seq: SC_ISN };
  return [
    { name: 'ARP', frame: arpFrame() },
    { name: 'UDP', frame: udp4Frame({ ip: v4 }) },
    { name: 'SYN-ACK', frame: tcp4Frame({ eth: {}, ip: v4, tcp: { ...tcp, flags: TCP_SYN | TCP_ACK } }) },
    { name: 'RST', frame: tcp4Frame({ eth: {}, ip: v4, tcp: { ...tcp, flags: TCP_RST | TCP_ACK } }) },
    { name: 'segment without ACK', frame: tcp4Frame({ eth: {}, ip: v4, tcp: { ...tcp, flags: 0x08 } }) },
    { name: 'SYN with IP options', frame: tcp4Frame({ eth: {}, ip: { ...v4, options: Uint8Array.from([1, 1, 1, 0]) }, tcp: { ...tcp, flags: TCP_SYN } }) },
    { name: 'SYN in a fragment', frame: tcp4Frame({ eth: {}, ip: { ...v4, fragOff: 0x2000 }, tcp: { ...tcp, flags: TCP_SYN } }) },
    { name: 'IPv6 SYN after a hop-by-hop header', frame: tcp6Frame({ eth: {}, ip: { src: SC_CLIENT6, dst: SC_SERVER6, extensions: [{ type: IPPROTO_HOPOPTS }] }, tcp: { ...tcp, flags: TCP_SYN } }) },
  ];
}

/** A SYN whose IPv4 header checksum is wrong: dropped (SC_SYN_DROPPED). */
export function syncookieBadChecksumSyn(): Uint8Array {
  return tcp4Frame({ eth: {}, ip: { src: SC_CLIENT4, dst: SC_SERVER4, checksum: 0x1234 }, tcp: { srcPort: SC_CPORT, dstPort: SC_SPORT, seq: SC_ISN, flags: TCP_SYN } });
}
