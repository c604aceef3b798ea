// SOCKMAP and SOCKHASH as maps (bpf-vm/maps/sockmap.ts, sockhash.ts): creation rules, the
// cookie-level updates the stack makes, user-space lookups returning cookies, the kernel's errnos
// for keys, flags and full maps, get_next_key orders, bpftool's dump, and the maps reopened in
// another view of the same shared memory (another worker's).
import test, { type ExecutionContext } from 'ava';
import { createMap, openSharedMap } from '../../bpf-vm/maps/create.ts';
import { dumpMap, formatMapDump } from '../../bpf-vm/maps/dump.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE as T, type BpfMap, type MapSpec } from '../../bpf-vm/maps/map.ts';
import { asSockMap, type SockMapOps } from '../../bpf-vm/maps/sock-map-ops.ts';
import { ERRNO } from '../../bpf-vm/errno.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { toHex } from '../../bpf-vm/hex.ts';

const { EINVAL, EEXIST, ENOENT, E2BIG, ENOSPC, EBADF } = ERRNO;

const spec = (type: number, keySize: number, valueSize: number, maxEntries: number, flags = 0): MapSpec =>
  ({ name: 'sm', type, keySize, valueSize, maxEntries, flags });

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function u64(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
}

function sock(m: BpfMap): SockMapOps {
  const s = asSockMap(m);
  if (s === undefined) throw new Error('not a socket map');
  return s;
}

function createCode(s: MapSpec): string {
  try {
    createMap(s);
    return 'ok';
  } catch (e) {
    if (e instanceof BpfError) return e.code;
    throw e;
  }
}

function keys(m: BpfMap): string[] {
  const out: string[] = [];
  for (let k = m.getNextKey(undefined); k !== undefined && out.length < 1000; k = m.getNextKey(k)) out.push(toHex(k));
  return out;
}

test('creation: sock_map_alloc / sock_hash_alloc rules and errnos', (t) => {
  const M = T.BPF_MAP_TYPE_SOCKMAP;
  const H = T.BPF_MAP_TYPE_SOCKHASH;
  const F = BPF_MAP_FLAG;
  const cases: [MapSpec, string][] = [
    [spec(M, 4, 8, 16), 'ok'],
    [spec(M, 4, 4, 16), 'ok'],
    [spec(M, 4, 8, 0), 'EINVAL'],
    [spec(M, 8, 8, 16), 'EINVAL'],
    [spec(M, 4, 2, 16), 'EINVAL'],
    [spec(M, 4, 16, 16), 'EINVAL'],
    [spec(M, 4, 8, 16, F.BPF_F_NO_PREALLOC), 'EINVAL'],
    [spec(M, 4, 8, 16, F.BPF_F_RDONLY_PROG), 'EINVAL'],
    [spec(M, 4, 8, 16, F.BPF_F_RDONLY), 'ok'],
    [spec(M, 4, 8, 16, F.BPF_F_WRONLY), 'ok'],
    [spec(M, 4, 8, 16, F.BPF_F_NUMA_NODE), 'ok'],
    [spec(M, 4, 8, 16, F.BPF_F_RDONLY | F.BPF_F_WRONLY), 'EINVAL'],
    [spec(H, 4, 8, 16), 'ok'],
    [spec(H, 1, 4, 16), 'ok'],
    [spec(H, 13, 8, 16), 'ok'],
    [spec(H, 512, 8, 16), 'ok'],
    [spec(H, 513, 8, 16), 'E2BIG'],
    [spec(H, 0, 8, 16), 'EINVAL'],
    [spec(H, 4, 8, 0), 'EINVAL'],
    [spec(H, 4, 12, 16), 'EINVAL'],
    [spec(H, 4, 8, 16, F.BPF_F_ZERO_SEED), 'EINVAL'],
    [spec(H, 4, 8, 16, F.BPF_F_NO_PREALLOC), 'EINVAL'],
    [spec(H, 4, 8, 2 ** 27 + 1), 'EINVAL'],
  ];
  for (const [s, want] of cases) t.is(createCode(s), want, JSON.stringify(s));
  const err = t.throws(() => createMap(spec(M, 8, 8, 16)), { instanceOf: BpfError });
  t.regex(err.message, /\(SOCKMAP\): key_size 8: SOCKMAP takes 4-byte keys/);
  const err2 = t.throws(() => createMap(spec(H, 4, 12, 16)), { instanceOf: BpfError });
  t.regex(err2.message, /\(SOCKHASH\): value_size 12: socket maps take a 4- or 8-byte socket fd/);
});

test('SOCKMAP: cookies in, cookies out; the kernel errnos for index, flags and empty slots', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_SOCKMAP, 4, 8, 4));
  const s = sock(m);
  t.is(s.lookupCookie(u32(0), 0), 0n);
  t.is(m.lookup(u32(0)), undefined);
  t.is(s.lookupSys(u32(0)), -ENOENT);
  t.is(s.updateCookie(u32(1), 0, 0x1234n, 0), 0);
  t.is(toHex(m.lookup(u32(1))!), '3412000000000000');
  t.is(s.lookupCookie(u32(1), 0), 0x1234n);
  // BPF_NOEXIST on a taken slot, BPF_EXIST on an empty one, flags past BPF_EXIST, BPF_F_LOCK.
  t.is(s.updateCookie(u32(1), 0, 7n, 1), -EEXIST);
  t.is(s.updateCookie(u32(2), 0, 7n, 2), -ENOENT);
  t.is(s.updateCookie(u32(2), 0, 7n, 3), -EINVAL);
  t.is(s.updateCookie(u32(2), 0, 7n, 4), -EINVAL);
  t.is(s.updateCookie(u32(1), 0, 0x99n, 2), 0);
  t.is(s.lookupCookie(u32(1), 0), 0x99n);
  // An index past max_entries: E2BIG on update (after the flags), EINVAL on delete, ENOENT on lookup.
  t.is(s.updateCookie(u32(4), 0, 7n, 0), -E2BIG);
  t.is(s.updateCookie(u32(4), 0, 7n, 5), -EINVAL);
  t.is(m.delete(u32(4)), -EINVAL);
  t.is(s.lookupSys(u32(4)), -ENOENT);
  // Delete: an empty slot is EINVAL, not ENOENT.
  t.is(m.delete(u32(0)), -EINVAL);
  t.is(m.delete(u32(1)), 0);
  t.is(m.delete(u32(1)), -EINVAL);
  // Compare-and-delete: only while the slot still holds that socket.
  t.is(s.updateCookie(u32(3), 0, 5n, 0), 0);
  t.false(s.deleteCookie(u32(3), 0, 6n));
  t.true(s.deleteCookie(u32(3), 0, 5n));
  t.is(s.lookupCookie(u32(3), 0), 0n);
});

test('SOCKMAP and SOCKHASH with 4-byte values: lookups from user space are ENOSPC (no room for a cookie)', (t) => {
  for (const type of [T.BPF_MAP_TYPE_SOCKMAP, T.BPF_MAP_TYPE_SOCKHASH]) {
    const m = createMap(spec(type, 4, 4, 4));
    const s = sock(m);
    t.is(s.updateCookie(u32(0), 0, 42n, 0), 0);
    t.is(s.lookupSys(u32(0)), -ENOSPC);
    t.is(s.lookupSys(u32(1)), -ENOSPC, 'checked before the key');
    t.is(m.lookup(u32(0)), undefined);
    t.is(s.lookupCookie(u32(0), 0), 42n, 'programs still reach the socket');
  }
});

test('raw user-space updates are socket fds: EINVAL past S32_MAX, else EBADF (sockets go in through the stack)', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_SOCKMAP, 4, 8, 4));
  t.is(m.update(u32(0), u64(3n)), -EBADF);
  t.is(m.update(u32(0), u64(0x80000000n)), -EINVAL);
  t.is(m.update(u32(0), u64(1n << 32n)), -EINVAL);
  t.is(m.update(u32(0), u64(3n), 3), -EBADF, 'flags past BPF_EXIST are checked after the socket');
  t.is(m.update(u32(0), u64(3n), 4), -EINVAL, 'BPF_F_LOCK before anything');
  const h = createMap(spec(T.BPF_MAP_TYPE_SOCKHASH, 4, 4, 4));
  t.is(h.update(u32(0), u32(3)), -EBADF);
  t.is(h.update(u32(0), u32(0xffffffff)), -EINVAL);
  // Programs pass sockets, not bytes.
  t.is(m.updateElem(u32(0), 0, u64(3n), 0, 0, 0), -EINVAL);
  t.is(m.lookupValueOffset(u32(0), 0, 0), -1);
  t.is(m.values.length, 0, 'nothing of a sockmap is addressable by a program');
});

test('SOCKMAP get_next_key walks every index: 0 first, then i + 1, ENOENT after the last, 0 for a key past the end', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_SOCKMAP, 4, 8, 3));
  t.deepEqual(keys(m), ['00000000', '01000000', '02000000']);
  t.is(toHex(m.getNextKey(u32(1))!), '02000000');
  t.is(m.getNextKey(u32(2)), undefined);
  t.is(toHex(m.getNextKey(u32(3))!), '00000000');
  t.is(toHex(m.getNextKey(u32(0xffffffff))!), '00000000');
});

test('SOCKHASH: cookies by key, E2BIG when full (a replacement still goes in), ENOENT deletes', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_SOCKHASH, 4, 8, 2));
  const s = sock(m);
  t.is(s.updateCookie(u32(10), 0, 100n, 0), 0);
  t.is(s.updateCookie(u32(11), 0, 101n, 1), 0);
  t.is(s.updateCookie(u32(12), 0, 102n, 0), -E2BIG);
  t.is(s.updateCookie(u32(11), 0, 111n, 0), 0, 'replacing a key of a full map');
  t.is(s.updateCookie(u32(11), 0, 1n, 1), -EEXIST);
  t.is(s.updateCookie(u32(12), 0, 1n, 2), -ENOENT);
  t.is(s.updateCookie(u32(12), 0, 1n, 3), -EINVAL);
  t.is(toHex(m.lookup(u32(11))!), '6f00000000000000');
  t.is(s.lookupSys(u32(12)), -ENOENT);
  t.is(m.delete(u32(12)), -ENOENT);
  t.false(s.deleteCookie(u32(10), 0, 999n));
  t.true(s.deleteCookie(u32(10), 0, 100n));
  t.is(m.delete(u32(10)), -ENOENT);
  t.is(m.delete(u32(11)), 0);
  t.deepEqual(keys(m), []);
});

// The kernel's jhash over bytes (include/linux/jhash.h), written out byte-wise, independent of
// hash.ts: the SOCKHASH bucket of a key is jhash(key, key_size, 0) & (buckets - 1).
function rol(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
function jhashBytes(k: Uint8Array, initval: number): number {
  let a = (0xdeadbeef + k.length + initval) >>> 0;
  let b = a;
  let c = a;
  let len = k.length;
  let o = 0;
  const w = (i: number): number => (k[o + i]! | (k[o + i + 1]! << 8) | (k[o + i + 2]! << 16) | (k[o + i + 3]! << 24)) >>> 0;
  while (len > 12) {
    a = (a + w(0)) >>> 0; b = (b + w(4)) >>> 0; c = (c + w(8)) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol(c, 4)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol(a, 6)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol(b, 8)) >>> 0; b = (b + a) >>> 0;
    a = (a - c) >>> 0; a = (a ^ rol(c, 16)) >>> 0; c = (c + b) >>> 0;
    b = (b - a) >>> 0; b = (b ^ rol(a, 19)) >>> 0; a = (a + c) >>> 0;
    c = (c - b) >>> 0; c = (c ^ rol(b, 4)) >>> 0; b = (b + a) >>> 0;
    len -= 12; o += 12;
  }
  if (len === 0) return c;
  const tail = new Uint8Array(12);
  tail.set(k.subarray(o, o + len));
  const tw = (i: number): number => (tail[i]! | (tail[i + 1]! << 8) | (tail[i + 2]! << 16) | (tail[i + 3]! << 24)) >>> 0;
  a = (a + tw(0)) >>> 0; b = (b + tw(4)) >>> 0; c = (c + tw(8)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol(b, 24)) >>> 0;
  return c;
}

/** sock_hash_get_next_key's order for keys inserted in this order: buckets ascending, newest first in a bucket. */
function kernelOrder(inserted: Uint8Array[], buckets: number): string[] {
  const chains: string[][] = Array.from({ length: buckets }, () => []);
  for (const k of inserted) chains[jhashBytes(k, 0) & (buckets - 1)]!.unshift(toHex(k));
  return chains.flat();
}

function checkOrder(t: ExecutionContext, keySize: number, maxEntries: number, n: number): void {
  const m = createMap(spec(T.BPF_MAP_TYPE_SOCKHASH, keySize, 8, maxEntries));
  const s = sock(m);
  const inserted: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const k = new Uint8Array(keySize);
    for (let j = 0; j < keySize; j++) k[j] = (i * 37 + j * 11 + 1) & 0xff;
    inserted.push(k);
    t.is(s.updateCookie(k, 0, BigInt(i + 1), 0), 0);
  }
  let buckets = 1;
  while (buckets < maxEntries) buckets *= 2;
  t.deepEqual(keys(m), kernelOrder(inserted, buckets), `key_size ${keySize}`);
}

test('SOCKHASH get_next_key: the kernel\'s order, jhash(key, key_size, 0) buckets, newest first, for any key size', (t) => {
  checkOrder(t, 4, 8, 8);
  checkOrder(t, 8, 16, 12);
  checkOrder(t, 3, 4, 4);
  checkOrder(t, 13, 32, 20);
  checkOrder(t, 37, 8, 8);
  // A missing key starts over from bucket 0, as does no key.
  const m = createMap(spec(T.BPF_MAP_TYPE_SOCKHASH, 4, 8, 8));
  sock(m).updateCookie(u32(1), 0, 1n, 0);
  t.is(toHex(m.getNextKey(u32(77))!), '01000000');
});

test('dump: only sockets appear; bpftool prints <no entry> for SOCKMAP\'s empty slots and strerror for 4-byte maps', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_SOCKMAP, 4, 8, 3));
  sock(m).updateCookie(u32(1), 0, 0x1122334455n, 0);
  t.deepEqual(dumpMap(m).map((e) => [toHex(e.key), toHex(e.value)]), [['01000000', '5544332211000000']]);
  t.is(formatMapDump(m), [
    'key: 00 00 00 00  value: <no entry>',
    'key: 01 00 00 00  value: 55 44 33 22 11 00 00 00',
    'key: 02 00 00 00  value: <no entry>',
    'Found 1 element',
    '',
  ].join('\n'));
  const m4 = createMap(spec(T.BPF_MAP_TYPE_SOCKMAP, 4, 4, 1));
  sock(m4).updateCookie(u32(0), 0, 9n, 0);
  // bpftool breaks the lines when the message is longer than 16 characters.
  t.is(formatMapDump(m4), 'key:\n00 00 00 00\nvalue:\nNo space left on device\nFound 0 elements\n');
  const h = createMap(spec(T.BPF_MAP_TYPE_SOCKHASH, 4, 8, 4));
  sock(h).updateCookie(u32(7), 0, 3n, 0);
  t.is(formatMapDump(h), 'key: 07 00 00 00  value: 03 00 00 00 00 00 00 00\nFound 1 element\n');
});

test('shared memory: a map reopened from share() (another worker\'s view) sees and makes the same changes', (t) => {
  for (const type of [T.BPF_MAP_TYPE_SOCKMAP, T.BPF_MAP_TYPE_SOCKHASH]) {
    const a = createMap(spec(type, 4, 8, 8));
    const b = openSharedMap(structuredClone(a.share()));
    t.is(sock(a).updateCookie(u32(3), 0, 77n, 0), 0);
    t.is(sock(b).lookupCookie(u32(3), 0), 77n);
    t.is(toHex(b.lookup(u32(3))!), '4d00000000000000');
    t.is(sock(b).updateCookie(u32(3), 0, 78n, 1), -EEXIST);
    t.true(sock(b).deleteCookie(u32(3), 0, 77n));
    t.is(a.lookup(u32(3)), undefined);
  }
  t.throws(() => openSharedMap({ ...createMap(spec(T.BPF_MAP_TYPE_SOCKMAP, 4, 8, 8)).share(), spec: spec(T.BPF_MAP_TYPE_SOCKMAP, 4, 8, 16) }),
    { instanceOf: BpfError });
});
