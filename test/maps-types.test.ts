// The map types after the first four: PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH, LPM_TRIE and
// DEVMAP_HASH, from user space (the bpf() commands) and from the program side (the calls helpers
// make), with the kernel's errnos; and the refusals of malformed definitions at creation.
import test, { type ExecutionContext } from 'ava';
import { createMap, openSharedMap } from '../bpf-vm/maps/create.ts';
import { dumpMap } from '../bpf-vm/maps/dump.ts';
import { LruHashMap } from '../bpf-vm/maps/lru-hash.ts';
import { LpmTrieMap } from '../bpf-vm/maps/lpm-trie.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE as T, type BpfMap, type MapSpec } from '../bpf-vm/maps/map.ts';
import { mapTypeName } from '../bpf-vm/maps/names.ts';
import { ERRNO } from '../bpf-vm/errno.ts';
import { BpfError } from '../bpf-vm/errors.ts';
import { toHex } from '../bpf-vm/hex.ts';

const { EINVAL, EEXIST, ENOENT, E2BIG, ENOSPC, EFAULT } = ERRNO;
const NO_PREALLOC = BPF_MAP_FLAG.BPF_F_NO_PREALLOC;

function spec(type: number, keySize: number, valueSize: number, maxEntries: number, flags = 0): MapSpec {
  return { name: 'm', type, keySize, valueSize, maxEntries, flags };
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

function readU32(b: Uint8Array | undefined, off = 0): number | undefined {
  return b === undefined ? undefined : new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

/** Every key, by get_next_key from none to the end. */
function keys(m: BpfMap): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let k = m.getNextKey(undefined); k !== undefined && out.length < 10_000; k = m.getNextKey(k)) out.push(k);
  return out;
}

function createError(t: ExecutionContext, s: MapSpec, code: string, message: RegExp, nrCpus?: number): void {
  const err = t.throws(() => createMap(s, { nrCpus }), { instanceOf: BpfError });
  t.is(err?.code, code as BpfError['code'], err?.message);
  t.regex(err?.message ?? '', message);
}

// --- PERCPU_HASH ---

test('PERCPU_HASH: a program writes its own CPU\'s copy; a new key zeroes the others, an existing one keeps them', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 4), { nrCpus: 3 });
  t.is(mapTypeName(m.spec.type), 'percpu_hash');
  t.is(m.updateElem(u32(1), 0, u32(7), 0, 0, 1), 0);
  // User space sees every CPU's copy, each rounded up to 8 bytes.
  t.is(toHex(m.lookup(u32(1))!), '0000000000000000' + '0700000000000000' + '0000000000000000');
  t.is(m.updateElem(u32(1), 0, u32(9), 0, 0, 0), 0);
  t.is(toHex(m.lookup(u32(1))!), '0900000000000000' + '0700000000000000' + '0000000000000000', 'in place: CPU 1 keeps 7');
  // The program side finds its own copy.
  for (const [cpu, want] of [[0, 9], [1, 7], [2, 0]]) {
    const off = m.lookupValueOffset(u32(1), 0, cpu!);
    t.is(readU32(m.values, off), want, `cpu ${cpu}`);
  }
  t.is(m.lookupValueOffset(u32(1), 0, 3), -1, 'a CPU the map has no copy for');
  t.is(m.updateElem(u32(1), 0, u32(1), 0, 0, 3), -EINVAL);
  t.is(m.lookupValueOffset(u32(2), 0, 0), -1);
});

test('PERCPU_HASH: user space writes every CPU; flags, E2BIG when full, delete, dump', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 2), { nrCpus: 2 });
  t.is(m.update(u32(1), new Uint8Array(8)), -EFAULT, 'user values are nrCpus * round_up(value_size, 8) bytes');
  t.is(m.update(u32(1), Uint8Array.from([...u64(5), ...u64(6)])), 0);
  t.is(m.update(u32(1), new Uint8Array(16), 1), -EEXIST);
  t.is(m.update(u32(2), new Uint8Array(16), 2), -ENOENT);
  t.is(m.update(u32(2), new Uint8Array(16), 4), -EINVAL, 'BPF_F_LOCK: no spin lock in the value');
  t.is(m.update(u32(2), Uint8Array.from([...u64(1), ...u64(2)])), 0);
  t.is(m.update(u32(3), new Uint8Array(16)), -E2BIG);
  t.is(m.updateElem(u32(3), 0, u64(1), 0, 0, 0), -E2BIG);
  t.is(m.update(u32(1), Uint8Array.from([...u64(50), ...u64(60)]), 2), 0, 'an existing key, in place');
  t.deepEqual(dumpMap(m).map((e) => [toHex(e.key), toHex(e.value)]).sort(), [
    ['01000000', toHex(Uint8Array.from([...u64(50), ...u64(60)]))],
    ['02000000', toHex(Uint8Array.from([...u64(1), ...u64(2)]))],
  ]);
  t.is(m.delete(u32(1)), 0);
  t.is(m.delete(u32(1)), -ENOENT);
  t.is(m.lookup(u32(1)), undefined);
});

// --- LRU_HASH ---

test('LRU_HASH: a full map evicts the least recently used key; an update never fails with E2BIG', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 4)) as LruHashMap;
  t.is(mapTypeName(m.spec.type), 'lru_hash');
  for (let k = 1; k <= 4; k++) t.is(m.update(u32(k), u64(k * 10)), 0);
  t.is(m.update(u32(5), u64(50)), 0, 'full: 1, the oldest, goes');
  t.is(m.lookup(u32(1)), undefined);
  t.deepEqual(keys(m).map((k) => readU32(k)).sort(), [2, 3, 4, 5]);
  // A program's lookup marks 2 as used: the next insertion skips it and takes 3.
  t.true(m.lookupValueOffset(u32(2), 0, 0) >= 0);
  t.is(m.update(u32(6), u64(60)), 0);
  t.deepEqual(keys(m).map((k) => readU32(k)).sort(), [2, 4, 5, 6]);
  // User-space lookups do not mark (htab_lru_map_lookup_elem_sys): 4 is still the oldest.
  t.truthy(m.lookup(u32(4)));
  t.is(m.updateElem(u32(7), 0, u64(70), 0, 0, 0), 0, 'from a program too');
  t.deepEqual(keys(m).map((k) => readU32(k)).sort(), [2, 5, 6, 7]);
  // 2 had a second chance and used it: unreferenced since, it is next after 5.
  t.deepEqual(m.recencyOrder().map((k) => readU32(k)), [7, 6, 2, 5]);
  t.is(m.update(u32(8), u64(80)), 0);
  t.is(m.update(u32(9), u64(90)), 0);
  t.deepEqual(keys(m).map((k) => readU32(k)).sort(), [6, 7, 8, 9]);
  t.is(readU32(m.lookup(u32(9))), 90);
});

test('LRU_HASH: flags and errnos; replacing a key in a full map evicts nothing; delete frees a place', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 3)) as LruHashMap;
  for (let k = 1; k <= 3; k++) t.is(m.update(u32(k), u64(k)), 0);
  t.is(m.update(u32(2), u64(22), 1), -EEXIST);
  t.is(m.update(u32(9), u64(9), 2), -ENOENT, 'BPF_EXIST on a missing key, even in a full map');
  t.is(m.update(u32(1), u64(9), 3), -EINVAL);
  t.is(m.update(u32(1), u64(9), 4), -EINVAL, 'BPF_F_LOCK');
  t.is(m.update(u32(1), u64(11), 2), 0);
  t.deepEqual(keys(m).map((k) => readU32(k)).sort(), [1, 2, 3]);
  t.is(readU32(m.lookup(u32(1))), 11);
  // A replaced element starts referenced (htab_lru_map_update_elem): 2 is evicted before 1.
  t.is(m.update(u32(4), u64(4)), 0);
  t.deepEqual(keys(m).map((k) => readU32(k)).sort(), [1, 3, 4]);
  t.is(m.delete(u32(3)), 0);
  t.is(m.delete(u32(3)), -ENOENT);
  t.is(m.update(u32(5), u64(5)), 0, 'room after a delete: nothing evicted');
  t.deepEqual(keys(m).map((k) => readU32(k)).sort(), [1, 4, 5]);
  t.is(m.count(), 3);
});

test('LRU_HASH: 10 000 inserts into 64 places keep the last 64 and never fail', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 64, BPF_MAP_FLAG.BPF_F_NO_COMMON_LRU)) as LruHashMap;
  for (let k = 0; k < 10_000; k++) if (m.update(u32(k), u64(k)) !== 0) t.fail(`insert ${k}`);
  t.is(m.count(), 64);
  t.deepEqual(keys(m).map((k) => readU32(k)!).sort((a, b) => a - b), Array.from({ length: 64 }, (_, i) => 10_000 - 64 + i));
});

test('LRU_PERCPU_HASH: per-CPU values, in-place updates, eviction', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 4, 2), { nrCpus: 2 });
  t.is(mapTypeName(m.spec.type), 'lru_percpu_hash');
  t.is(m.updateElem(u32(1), 0, u32(3), 0, 0, 1), 0);
  t.is(toHex(m.lookup(u32(1))!), '0000000000000000' + '0300000000000000');
  t.is(m.updateElem(u32(1), 0, u32(4), 0, 0, 0), 0);
  t.is(toHex(m.lookup(u32(1))!), '0400000000000000' + '0300000000000000');
  t.is(readU32(m.values, m.lookupValueOffset(u32(1), 0, 1)), 3);
  t.is(m.update(u32(2), new Uint8Array(16)), 0);
  // 1 was looked up by a program (and updated in place): 2 goes first.
  t.is(m.update(u32(3), new Uint8Array(16)), 0);
  t.deepEqual(keys(m).map((k) => readU32(k)).sort(), [1, 3]);
  t.is(m.lookupValueOffset(u32(1), 0, 2), -1);
});

// --- LPM_TRIE ---

function lpmKey(plen: number, ...addr: number[]): Uint8Array {
  return Uint8Array.from([...u32(plen), ...addr]);
}

function keyStr(k: Uint8Array): string {
  return `${[...k.subarray(4)].join('.')}/${readU32(k)}`;
}

function lpm(maxEntries = 16, dataSize = 4): LpmTrieMap {
  return createMap(spec(T.BPF_MAP_TYPE_LPM_TRIE, 4 + dataSize, 4, maxEntries, NO_PREALLOC)) as LpmTrieMap;
}

test('LPM_TRIE: the longest matching prefix wins, for programs and user space', (t) => {
  const m = lpm();
  t.is(mapTypeName(m.spec.type), 'lpm_trie');
  t.is(m.update(lpmKey(16, 192, 168, 0, 0), u32(16)), 0);
  t.is(m.update(lpmKey(24, 192, 168, 1, 0), u32(24)), 0);
  t.is(m.update(lpmKey(0, 0, 0, 0, 0), u32(0)), 0, 'a default route');
  t.is(m.update(lpmKey(32, 192, 168, 1, 1), u32(32)), 0);
  const match = (...a: number[]) => readU32(m.lookup(lpmKey(32, ...a)));
  t.is(match(192, 168, 1, 1), 32);
  t.is(match(192, 168, 1, 2), 24);
  t.is(match(192, 168, 7, 7), 16);
  t.is(match(10, 0, 0, 1), 0);
  t.is(readU32(m.lookup(lpmKey(20, 192, 168, 1, 1))), 16, 'the key\'s prefixlen limits the match');
  t.is(m.lookup(lpmKey(33, 192, 168, 1, 1)), undefined, 'prefixlen past the maximum finds nothing');
  const off = m.lookupValueOffset(lpmKey(32, 192, 168, 1, 9), 0, 0);
  t.is(readU32(m.values, off), 24);
  t.is(m.delete(lpmKey(0, 0, 0, 0, 0)), 0);
  t.is(m.lookup(lpmKey(32, 10, 0, 0, 1)), undefined);
  t.is(m.lookupValueOffset(lpmKey(32, 10, 0, 0, 1), 0, 0), -1);
});

test('LPM_TRIE: get_next_key walks post-order, leftmost first (the kernel\'s example)', (t) => {
  const m = lpm();
  // lpm_trie.c's comment: 192.168.0.0/16 above 192.168.0.0/24, 192.168.1.0/24 and 192.168.128.0/24.
  for (const [p, a] of [[16, [192, 168, 0, 0]], [24, [192, 168, 0, 0]], [24, [192, 168, 1, 0]], [24, [192, 168, 128, 0]], [8, [10, 0, 0, 0]]] as const) {
    t.is(m.update(lpmKey(p, ...a), u32(p)), 0);
  }
  t.deepEqual(keys(m).map(keyStr), ['10.0.0.0/8', '192.168.0.0/24', '192.168.1.0/24', '192.168.128.0/24', '192.168.0.0/16']);
  t.is(keyStr(m.getNextKey(lpmKey(24, 192, 168, 1, 0))!), '192.168.128.0/24');
  t.is(m.getNextKey(lpmKey(16, 192, 168, 0, 0)), undefined, 'the last key: ENOENT');
  t.is(keyStr(m.getNextKey(lpmKey(24, 172, 16, 0, 0))!), '10.0.0.0/8', 'a missing key starts over');
  t.is(keyStr(m.getNextKey(lpmKey(99, 0, 0, 0, 0))!), '10.0.0.0/8', 'so does a bad prefixlen');
  t.is(lpm().getNextKey(undefined), undefined, 'an empty trie');
});

test('LPM_TRIE: errnos (EINVAL, EEXIST, ENOENT, ENOSPC) and intermediate nodes', (t) => {
  const m = lpm(3);
  t.is(m.update(lpmKey(33, 1, 2, 3, 4), u32(1)), -EINVAL, 'prefixlen > 32');
  t.is(m.update(lpmKey(8, 10, 0, 0, 0), u32(1), 3), -EINVAL, 'unknown flags');
  t.is(m.update(lpmKey(8, 10, 0, 0, 0), u32(1), 4), -EINVAL, 'BPF_F_LOCK');
  t.is(m.update(lpmKey(8, 10, 0, 0, 0), u32(1), 2), -ENOENT, 'BPF_EXIST on a missing prefix');
  t.is(m.update(lpmKey(24, 10, 1, 0, 0), u32(2)), 0);
  t.is(m.update(lpmKey(24, 10, 2, 0, 0), u32(3)), 0, 'joined to 10.1.0.0/24 by an intermediate 10.0.0.0/14');
  t.is(m.lookup(lpmKey(32, 10, 3, 0, 1)), undefined, 'the intermediate node is not an entry');
  t.is(m.delete(lpmKey(14, 10, 0, 0, 0)), -ENOENT, 'nor can it be deleted');
  t.is(m.update(lpmKey(24, 10, 2, 0, 77), u32(33), 1), -EEXIST, 'the same prefix, other trailing bits: the same entry');
  t.is(m.update(lpmKey(24, 10, 2, 0, 77), u32(33), 2), 0);
  t.deepEqual(keys(m).map((k) => toHex(k)), ['180000000a010000', '180000000a02004d'], 'the data is kept as last given');
  t.is(m.update(lpmKey(14, 10, 0, 0, 0), u32(14), 1), 0, 'an intermediate node becomes an entry');
  t.is(m.count(), 3);
  t.is(m.update(lpmKey(8, 11, 0, 0, 0), u32(8)), -ENOSPC, 'full');
  t.is(m.update(lpmKey(14, 10, 0, 0, 0), u32(15)), 0, 'replacing in a full trie');
  t.is(readU32(m.lookup(lpmKey(32, 10, 3, 0, 1))), 15);
  t.deepEqual(keys(m).map(keyStr), ['10.1.0.0/24', '10.2.0.77/24', '10.0.0.0/14']);
  t.is(m.delete(lpmKey(14, 10, 0, 0, 0)), 0, 'two children: it turns intermediate again');
  t.is(m.delete(lpmKey(33, 10, 0, 0, 0)), -EINVAL);
  t.is(m.delete(lpmKey(24, 10, 1, 0, 0)), 0, 'a leaf under an intermediate node: both go');
  t.deepEqual(keys(m).map(keyStr), ['10.2.0.77/24']);
  t.is(m.delete(lpmKey(24, 10, 2, 0, 0)), 0);
  t.is(m.count(), 0);
  t.deepEqual(keys(m), []);
  // Every node went back to the free ring: the trie fills up again.
  for (let i = 0; i < 3; i++) t.is(m.update(lpmKey(32, 10, 0, 0, i), u32(i)), 0);
});

test('LPM_TRIE: 1-byte and 16-byte data, many prefixes against a reference', (t) => {
  const b = lpm(4, 1);
  t.is(b.update(lpmKey(0, 0), u32(0)), 0);
  t.is(b.update(lpmKey(4, 0xa0), u32(4)), 0);
  t.is(readU32(b.lookup(lpmKey(8, 0xaf))), 4);
  t.is(readU32(b.lookup(lpmKey(8, 0x5f))), 0);
  t.is(b.update(lpmKey(9, 0xa0), u32(9)), -EINVAL, 'max_prefixlen is 8 for 1 data byte');

  // IPv6-sized keys: random prefixes, and longest-match lookups checked against a linear scan.
  const m = lpm(200, 16);
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8);
  const entries = new Map<string, { plen: number; data: number[]; v: number }>();
  const masked = (data: number[], plen: number) => data.map((x, i) => (i * 8 >= plen ? 0 : i * 8 + 8 <= plen ? x : x & (0xff << (8 - (plen - i * 8))) & 0xff));
  for (let i = 0; i < 400; i++) {
    const plen = rand() % 129;
    const data = Array.from({ length: 16 }, (_, j) => (j < 2 ? 0x20 + (rand() & 1) : rand() & 0xff));
    const id = `${plen}:${masked(data, plen).join(',')}`;
    if (rand() % 4 === 0 && entries.size > 0) {
      const [k, e] = [...entries.entries()][rand() % entries.size]!;
      t.is(m.delete(lpmKey(e.plen, ...e.data)), 0);
      entries.delete(k);
      continue;
    }
    const r = m.update(lpmKey(plen, ...data), u32(i));
    if (entries.has(id) || entries.size < 200) {
      t.is(r, 0);
      entries.set(id, { plen, data, v: i });
    } else {
      t.is(r, -ENOSPC);
    }
  }
  t.is(m.count(), entries.size);
  t.is(keys(m).length, entries.size);
  for (let q = 0; q < 300; q++) {
    const addr = Array.from({ length: 16 }, (_, j) => (j < 2 ? 0x20 + (rand() & 1) : rand() & 0xff));
    let best: { plen: number; v: number } | undefined;
    for (const e of entries.values()) {
      if (masked(e.data, e.plen).join() === masked(addr, e.plen).join() && (best === undefined || e.plen > best.plen)) best = e;
    }
    t.is(readU32(m.lookup(lpmKey(128, ...addr))), best?.v);
  }
});

// --- DEVMAP_HASH ---

test('DEVMAP_HASH: any u32 key; __dev_map_hash_update_elem\'s errnos; 8-byte values', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 2));
  t.is(mapTypeName(m.spec.type), 'devmap_hash');
  t.is(m.update(u32(0xdeadbeef), u32(3)), 0);
  t.is(m.update(u32(7), u32(0)), -EINVAL, 'ifindex 0');
  t.is(m.update(u32(7), u32(4), 3), -EINVAL, 'unknown flags');
  t.is(m.update(u32(0xdeadbeef), u32(5), 1), -EEXIST);
  t.is(m.update(u32(7), u32(4), 2), 0, 'BPF_EXIST on a missing key inserts it, as in the kernel');
  t.is(m.update(u32(8), u32(4)), -E2BIG);
  t.is(m.update(u32(0xdeadbeef), u32(6)), 0, 'replacing in a full map');
  t.is(readU32(m.lookup(u32(0xdeadbeef))), 6);
  t.is(readU32(m.values, m.lookupValueOffset(u32(7), 0, 0)), 4);
  t.is(m.delete(u32(9)), -ENOENT);
  t.is(m.delete(u32(7)), 0);
  t.deepEqual(dumpMap(m).map((e) => [toHex(e.key), toHex(e.value)]), [['efbeadde', '06000000']]);
  const v8 = createMap(spec(T.BPF_MAP_TYPE_DEVMAP_HASH, 4, 8, 4));
  t.is(v8.update(u32(1), Uint8Array.from([...u32(2), ...u32(9)])), 0);
  t.is(toHex(v8.lookup(u32(1))!), '0200000009000000');
});

// --- creation checks ---

test('creation: LPM_TRIE needs BPF_F_NO_PREALLOC, 5..260-byte keys, a value (trie_alloc: EINVAL)', (t) => {
  const L = T.BPF_MAP_TYPE_LPM_TRIE;
  createError(t, spec(L, 8, 4, 16), 'EINVAL', /LPM_TRIE maps need BPF_F_NO_PREALLOC/);
  createError(t, spec(L, 4, 4, 16, NO_PREALLOC), 'EINVAL', /key_size 4: LPM_TRIE keys are a u32 prefixlen and 1..256 data bytes \(key_size 5..260\)/);
  createError(t, spec(L, 261, 4, 16, NO_PREALLOC), 'EINVAL', /key_size 261/);
  createError(t, spec(L, 8, 0, 16, NO_PREALLOC), 'EINVAL', /value_size 0/);
  createError(t, spec(L, 8, 4, 0, NO_PREALLOC), 'EINVAL', /max_entries must be > 0/);
  createError(t, spec(L, 8, 4, 16, NO_PREALLOC | BPF_MAP_FLAG.BPF_F_ZERO_SEED), 'EINVAL', /map_flags 0x40 not supported for LPM_TRIE/);
  createError(t, spec(L, 8, 4, 16, NO_PREALLOC | BPF_MAP_FLAG.BPF_F_RDONLY | BPF_MAP_FLAG.BPF_F_WRONLY), 'EINVAL', /BPF_F_RDONLY and BPF_F_WRONLY/);
  for (const k of [5, 260]) t.notThrows(() => createMap(spec(L, k, 1, 4, NO_PREALLOC)), `key_size ${k}`);
  t.notThrows(() => createMap(spec(L, 8, 4, 4, NO_PREALLOC | BPF_MAP_FLAG.BPF_F_RDONLY_PROG)));
});

test('creation: hash flavours (htab_map_alloc_check)', (t) => {
  createError(t, spec(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, NO_PREALLOC), 'ENOTSUPP', /LRU maps are always preallocated/);
  createError(t, spec(T.BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 4, NO_PREALLOC), 'ENOTSUPP', /preallocated/);
  createError(t, spec(T.BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4, BPF_MAP_FLAG.BPF_F_NO_COMMON_LRU), 'EINVAL', /BPF_F_NO_COMMON_LRU on a non-LRU map/);
  createError(t, spec(T.BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_MAP_FLAG.BPF_F_NO_COMMON_LRU), 'EINVAL', /BPF_F_NO_COMMON_LRU on a non-LRU map/);
  createError(t, spec(T.BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4, BPF_MAP_FLAG.BPF_F_NUMA_NODE), 'EINVAL', /BPF_F_NUMA_NODE on a per-CPU map/);
  createError(t, spec(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_MAP_FLAG.BPF_F_NUMA_NODE | BPF_MAP_FLAG.BPF_F_NO_COMMON_LRU), 'EINVAL', /BPF_F_NUMA_NODE/);
  createError(t, spec(T.BPF_MAP_TYPE_PERCPU_HASH, 4, (32 << 10) + 1, 4), 'E2BIG', /PCPU_MIN_UNIT_SIZE/);
  createError(t, spec(T.BPF_MAP_TYPE_LRU_HASH, 0, 8, 4), 'EINVAL', /key_size/);
  createError(t, spec(T.BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 0), 'EINVAL', /max_entries/);
  t.notThrows(() => createMap(spec(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_MAP_FLAG.BPF_F_NO_COMMON_LRU)));
  t.notThrows(() => createMap(spec(T.BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_MAP_FLAG.BPF_F_NUMA_NODE)));
  t.notThrows(() => createMap(spec(T.BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4, NO_PREALLOC)));
});

test('creation: DEVMAP_HASH as DEVMAP (dev_map_alloc_check)', (t) => {
  const D = T.BPF_MAP_TYPE_DEVMAP_HASH;
  createError(t, spec(D, 8, 4, 4), 'EINVAL', /key_size 8: devmap takes 4-byte keys/);
  createError(t, spec(D, 4, 6, 4), 'EINVAL', /value_size 6/);
  createError(t, spec(D, 4, 4, 0), 'EINVAL', /max_entries must be > 0/);
  createError(t, spec(D, 4, 4, 4, NO_PREALLOC), 'EINVAL', /map_flags 0x1 not supported/);
});

test('every new type reopens in another view of the same memory (openSharedMap)', (t) => {
  const cases: [MapSpec, Uint8Array, Uint8Array][] = [
    [spec(T.BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 4), u32(1), new Uint8Array(16).fill(1)],
    [spec(T.BPF_MAP_TYPE_LRU_HASH, 4, 4, 4), u32(1), u32(5)],
    [spec(T.BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 4, 4), u32(1), new Uint8Array(16).fill(2)],
    [spec(T.BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4, NO_PREALLOC), lpmKey(8, 10, 0, 0, 0), u32(8)],
    [spec(T.BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 4), u32(1), u32(3)],
  ];
  for (const [s, k, v] of cases) {
    const a = createMap(s, { nrCpus: 2 });
    t.is(a.update(k, v), 0, mapTypeName(s.type));
    const b = openSharedMap(a.share());
    t.deepEqual(b.lookup(k), v, mapTypeName(s.type));
    t.is(b.delete(k), 0);
    t.is(a.lookup(k), undefined);
    t.throws(() => openSharedMap({ ...a.share(), spec: { ...s, maxEntries: 1000 } }), { instanceOf: BpfError });
  }
});
