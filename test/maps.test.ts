// Map semantics, one thread: what the kernel's arraymap.c, hashtab.c and devmap.c do for every
// operation and error, spec validation at creation, iteration, dumps and shared reopening.
import test from 'ava';
import { createMap, openSharedMap } from '../bpf-vm/maps/create.ts';
import { dumpMap } from '../bpf-vm/maps/dump.ts';
import { HashMap, hashSpare } from '../bpf-vm/maps/hash.ts';
import { jhash1word, jhash2, jhash2words } from '../bpf-vm/maps/jhash.ts';
import { lockAcquire, lockRelease } from '../bpf-vm/maps/lock.ts';
import { BPF_MAP_TYPE, type BpfMap, type MapSpec } from '../bpf-vm/maps/map.ts';
import { ERRNO } from '../bpf-vm/errno.ts';
import { BpfError } from '../bpf-vm/errors.ts';
import * as maps from '../bpf-vm/maps/index.ts';

const T = BPF_MAP_TYPE;
const { EINVAL, EEXIST, ENOENT, E2BIG, EFAULT } = ERRNO;
const ANY = 0;
const NOEXIST = 1;
const EXIST = 2;
const F_LOCK = 4;

function spec(type: number, keySize: number, valueSize: number, maxEntries: number, extra: Partial<MapSpec> = {}): MapSpec {
  return { name: 'm', type, keySize, valueSize, maxEntries, flags: 0, ...extra };
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(0, n, true);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer, b.byteOffset, b.byteLength).setBigUint64(0, BigInt(n), true);
  return b;
}

function bytes(...xs: number[]): Uint8Array {
  return Uint8Array.from(xs);
}

function readU32(b: Uint8Array | undefined, off = 0): number | undefined {
  return b === undefined ? undefined : new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

/** Every key getNextKey yields from the start, as numbers (u32 keys). */
function iterate(map: BpfMap, toId: (k: Uint8Array) => string = (k) => Buffer.from(k).toString('hex')): string[] {
  const out: string[] = [];
  let k = map.getNextKey(undefined);
  while (k !== undefined && out.length < 100_000) {
    out.push(toId(k));
    k = map.getNextKey(k);
  }
  return out;
}

function createError(t: import('ava').ExecutionContext, s: MapSpec, code: string, message: RegExp, opts?: { nrCpus?: number; maxBytes?: number }): void {
  const err = t.throws(() => createMap(s, opts), { instanceOf: BpfError });
  t.is(err?.code, code as BpfError['code'], err?.message);
  t.regex(err?.message ?? '', message);
}

// --- createMap ---

test('createMap: unsupported map types are EINVAL and named: "QUEUE (22) is not supported by vxo"', (t) => {
  for (const [type, name] of [[23, 'STACK'], [22, 'QUEUE'], [T.BPF_MAP_TYPE_CPUMAP, 'CPUMAP'],
    [T.BPF_MAP_TYPE_XSKMAP, 'XSKMAP'], [34, 'INSN_ARRAY']] as const) {
    createError(t, spec(type, 4, 4, 4), 'EINVAL', new RegExp(`^map 'm': ${name} \\(${type}\\) is not supported by vxo \\(it has HASH, ARRAY, PERCPU_ARRAY, DEVMAP, [A-Z_, ]+\\)$`));
  }
  // No kernel defines these: the message does not pretend they are map types.
  for (const type of [0, 999]) createError(t, spec(type, 4, 4, 4), 'EINVAL', new RegExp(`map type ${type} is not a Linux map type`));
});

test('createMap: array rules (array_map_alloc_check)', (t) => {
  for (const type of [T.BPF_MAP_TYPE_ARRAY, T.BPF_MAP_TYPE_PERCPU_ARRAY]) {
    createError(t, spec(type, 8, 4, 4), 'EINVAL', /key_size 8/);
    createError(t, spec(type, 0, 4, 4), 'EINVAL', /key_size 0/);
    createError(t, spec(type, 4, 0, 4), 'EINVAL', /value_size must be > 0/);
    createError(t, spec(type, 4, 4, 0), 'EINVAL', /max_entries must be > 0/);
    createError(t, spec(type, 4, 4, 4, { flags: 1 }), 'EINVAL', /map_flags 0x1 not supported/); // BPF_F_NO_PREALLOC
    createError(t, spec(type, 4, 4, 4, { flags: 1 << 6 }), 'EINVAL', /map_flags 0x40/); // BPF_F_ZERO_SEED
    createError(t, spec(type, 4, 4, 4, { flags: (1 << 3) | (1 << 4) }), 'EINVAL', /BPF_F_RDONLY and BPF_F_WRONLY/);
    createError(t, spec(type, 4, 4, 4, { flags: (1 << 7) | (1 << 8) }), 'EINVAL', /RDONLY_PROG and BPF_F_WRONLY_PROG/);
    createError(t, spec(type, 4, 4, 4, { flags: 1 << 11 }), 'EINVAL', /PRESERVE_ELEMS/);
    createError(t, spec(type, 4, (1 << 20) + 1, 1), 'E2BIG', /value_size 1048577/);
  }
  createError(t, spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32 * 1024 + 1, 1), 'E2BIG', /PCPU_MIN_UNIT_SIZE/);
  createError(t, spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1, { flags: 1 << 2 }), 'EINVAL', /NUMA/);
  createError(t, spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1, { flags: 1 << 10 }), 'EINVAL', /MMAPABLE/);
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 2 ** 31 + 1), 'E2BIG', /max_entries/);
  // Accepted: access flags, BPF_F_MMAPABLE on ARRAY, a per-CPU value of exactly 32 KiB.
  t.notThrows(() => createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 1, { flags: (1 << 3) | (1 << 7) | (1 << 10) })));
  t.notThrows(() => createMap(spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32 * 1024, 1)));
  t.notThrows(() => createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 1 << 20, 1)));
});

test('createMap: hash rules (htab_map_alloc_check)', (t) => {
  const H = T.BPF_MAP_TYPE_HASH;
  createError(t, spec(H, 0, 4, 4), 'EINVAL', /must be > 0/);
  createError(t, spec(H, 4, 0, 4), 'EINVAL', /must be > 0/);
  createError(t, spec(H, 4, 4, 0), 'EINVAL', /must be > 0/);
  createError(t, spec(H, 4, 4, 4, { flags: 1 << 1 }), 'EINVAL', /NO_COMMON_LRU/);
  createError(t, spec(H, 4, 4, 4, { flags: 1 << 10 }), 'EINVAL', /map_flags 0x400/);
  createError(t, spec(H, 4, 4, 4, { flags: (1 << 3) | (1 << 4) }), 'EINVAL', /RDONLY/);
  createError(t, spec(H, 4 << 20, 4, 1), 'E2BIG', /key_size \+ value_size/);
  createError(t, spec(H, 4, (1 << 20) + 8, 1), 'E2BIG', /value_size/);
  createError(t, spec(H, 4, 4, 2 ** 31 + 1), 'E2BIG', /max_entries/);
  // Accepted: BPF_F_NO_PREALLOC (still preallocated), BPF_F_ZERO_SEED, odd key sizes.
  t.notThrows(() => createMap(spec(H, 4, 4, 4, { flags: 1 })));
  t.notThrows(() => createMap(spec(H, 4, 4, 4, { flags: 1 << 6 })));
  t.notThrows(() => createMap(spec(H, 13, 3, 4)));
});

test('createMap: devmap rules (dev_map_alloc_check)', (t) => {
  const D = T.BPF_MAP_TYPE_DEVMAP;
  createError(t, spec(D, 8, 4, 4), 'EINVAL', /key_size 8/);
  for (const v of [0, 2, 6, 12]) createError(t, spec(D, 4, v, 4), 'EINVAL', new RegExp(`value_size ${v}`));
  createError(t, spec(D, 4, 4, 0), 'EINVAL', /max_entries/);
  createError(t, spec(D, 4, 4, 4, { flags: 1 << 7 }), 'EINVAL', /map_flags 0x80/);
  t.notThrows(() => createMap(spec(D, 4, 4, 4, { flags: (1 << 2) | (1 << 3) })));
  t.notThrows(() => createMap(spec(D, 4, 8, 4)));
});

test('createMap: malformed numbers, nrCpus, initialValue and the memory budget', (t) => {
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 4.5, 4), 'EINVAL', /value_size 4.5 is not a u32/);
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, -1), 'EINVAL', /max_entries -1/);
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 4, { flags: 2 ** 32 }), 'EINVAL', /map_flags/);
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 4), 'EINVAL', /nrCpus 0/, { nrCpus: 0 });
  createError(t, spec(T.BPF_MAP_TYPE_HASH, 4, 4, 4, { initialValue: bytes(1) }), 'EINVAL', /initialValue/);
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 1, { initialValue: bytes(1, 2, 3, 4, 5) }), 'EINVAL', /initialValue has 5 bytes/);
  // 1000 slots of 8 bytes = 8000 bytes.
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 8, 1000), 'ENOMEM', /needs 8000 bytes, over the 4000-byte budget/, { maxBytes: 4000 });
  t.notThrows(() => createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 8, 1000), { maxBytes: 8000 }));
  createError(t, spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1000), 'ENOMEM', /16000 bytes/, { maxBytes: 10_000, nrCpus: 2 });
  createError(t, spec(T.BPF_MAP_TYPE_HASH, 4, 8, 1000), 'ENOMEM', /budget/, { maxBytes: 8000 });
  // Past the default 1 GiB budget.
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 1 << 20, 1100), 'ENOMEM', /budget/);
  // Past what 32-bit offsets address, whatever the budget.
  createError(t, spec(T.BPF_MAP_TYPE_ARRAY, 4, 1 << 20, 2048), 'E2BIG', /32-bit offsets/, { maxBytes: 2 ** 40 });
  const err = t.throws(() => createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 8, 1000), { maxBytes: 10 }), { instanceOf: BpfError });
  t.is(err?.errno, ERRNO.ENOMEM);
});

test('createMap: values are an 8-aligned view of a SharedArrayBuffer holding only values', (t) => {
  const cases: [MapSpec, number][] = [
    [spec(T.BPF_MAP_TYPE_ARRAY, 4, 5, 3), 3 * 8],
    [spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 12, 3), 3 * 3 * 16],
    [spec(T.BPF_MAP_TYPE_HASH, 6, 20, 10), (10 + hashSpare(3)) * 24],
    [spec(T.BPF_MAP_TYPE_DEVMAP, 4, 4, 7), 7 * 8],
  ];
  for (const [s, size] of cases) {
    const m = createMap(s, { nrCpus: 3 });
    t.true(m.values.buffer instanceof SharedArrayBuffer);
    t.is(m.values.byteOffset % 8, 0);
    t.is(m.values.byteLength, size, `type ${s.type}`);
    t.true(m.values.every((b) => b === 0));
    // Atomics over the same memory work (the JIT's atomic instructions rely on it).
    const i64 = new BigInt64Array(m.values.buffer, m.values.byteOffset, m.values.byteLength >> 3);
    t.is(Atomics.add(i64, 0, 1n), 0n);
    t.is(m.spec, s);
    t.is(m.share().nrCpus, 3);
  }
});

test('index re-exports the contract and the constructors', (t) => {
  t.is(maps.createMap, createMap);
  t.is(maps.openSharedMap, openSharedMap);
  t.is(maps.dumpMap, dumpMap);
  t.is(maps.BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, 1);
  t.is(maps.BPF_UPDATE.BPF_EXIST, 2);
  t.is(maps.BPF_MAP_FLAG.BPF_F_NO_PREALLOC, 1);
});

// --- ARRAY ---

test('ARRAY: slots exist and start zeroed; lookups past the end miss', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 6, 3));
  t.deepEqual(m.lookup(u32(2)), new Uint8Array(6));
  t.is(m.lookup(u32(3)), undefined);
  t.is(m.lookup(u32(0xffffffff)), undefined);
  t.is(m.lookupValueOffset(u32(0), 0, 0), 0);
  t.is(m.lookupValueOffset(u32(2), 0, 0), 16); // round_up(6, 8) per slot
  t.is(m.lookupValueOffset(u32(3), 0, 0), -1);
  // The key is read at keyOff, as from a program's stack.
  const stack = bytes(9, 9, 1, 0, 0, 0);
  t.is(m.lookupValueOffset(stack, 2, 0), 8);
  t.is(m.lookupValueOffset(stack, 4, 0), -1); // key runs past the buffer
});

test('ARRAY: update semantics and errors (array_map_update_elem)', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 5, 4));
  t.is(m.update(u32(1), bytes(1, 2, 3, 4, 5, 6, 7, 8)), 0);
  t.deepEqual(m.lookup(u32(1)), bytes(1, 2, 3, 4, 5));
  // Only value_size bytes are copied: the slot's padding stays zero.
  t.deepEqual([...m.values.subarray(8, 16)], [1, 2, 3, 4, 5, 0, 0, 0]);
  t.is(m.update(u32(1), bytes(9, 9, 9, 9, 9), EXIST), 0);
  t.deepEqual(m.lookup(u32(1)), bytes(9, 9, 9, 9, 9));
  t.is(m.update(u32(1), bytes(0, 0, 0, 0, 0), NOEXIST), -EEXIST);
  t.is(m.update(u32(4), bytes(0, 0, 0, 0, 0)), -E2BIG);
  t.is(m.update(u32(4), bytes(0, 0, 0, 0, 0), NOEXIST), -E2BIG); // the index check comes first
  t.is(m.update(u32(1), bytes(0, 0, 0, 0, 0), 3), -EINVAL);
  t.is(m.update(u32(9), bytes(0, 0, 0, 0, 0), 8), -EINVAL); // unknown flags before the index
  t.is(m.update(u32(1), bytes(0, 0, 0, 0, 0), F_LOCK), -EINVAL); // no bpf_spin_lock in the value
  t.is(m.update(u32(1), bytes(0, 0, 0, 0, 0), F_LOCK | NOEXIST), -EEXIST);
  t.is(m.update(u32(1), bytes(0, 0, 0)), -EFAULT); // shorter than value_size
  t.deepEqual(m.lookup(u32(1)), bytes(9, 9, 9, 9, 9));
  // Program side: key and value read at offsets.
  const stack = bytes(0, 0, 2, 0, 0, 0, 7, 7, 7, 7, 7);
  t.is(m.updateElem(stack, 2, stack, 6, ANY, 0), 0);
  t.deepEqual(m.lookup(u32(2)), bytes(7, 7, 7, 7, 7));
  t.is(m.updateElem(stack, 2, stack, 8, ANY, 0), -EFAULT);
});

test('ARRAY: delete is EINVAL; getNextKey walks every index', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 3));
  t.is(m.delete(u32(0)), -EINVAL);
  t.is(m.deleteElem(u32(0), 0), -EINVAL);
  t.is(m.delete(u32(7)), -EINVAL);
  t.deepEqual(m.getNextKey(undefined), u32(0));
  t.deepEqual(m.getNextKey(u32(0)), u32(1));
  t.deepEqual(m.getNextKey(u32(1)), u32(2));
  t.is(m.getNextKey(u32(2)), undefined);
  t.deepEqual(m.getNextKey(u32(3)), u32(0)); // out of range starts over
  t.deepEqual(m.getNextKey(u32(0xffffffff)), u32(0));
  t.deepEqual(iterate(m, (k) => String(readU32(k))), ['0', '1', '2']);
});

test('ARRAY: initialValue (global data) lands in slot 0 and only at creation', (t) => {
  const s = spec(T.BPF_MAP_TYPE_ARRAY, 4, 6, 1, { name: '.data', initialValue: bytes(1, 2, 3) });
  const m = createMap(s);
  t.deepEqual(m.lookup(u32(0)), bytes(1, 2, 3, 0, 0, 0));
  t.is(m.update(u32(0), bytes(4, 4, 4, 4, 4, 4)), 0);
  const again = openSharedMap(m.share());
  t.deepEqual(again.lookup(u32(0)), bytes(4, 4, 4, 4, 4, 4));
});

// --- PERCPU_ARRAY ---

test('PERCPU_ARRAY: one copy per CPU; programs see their own', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 3), { nrCpus: 3 });
  const o0 = m.lookupValueOffset(u32(1), 0, 0);
  const o2 = m.lookupValueOffset(u32(1), 0, 2);
  t.is(o0, 1 * 3 * 8);
  t.is(o2, o0 + 16);
  t.is(m.lookupValueOffset(u32(1), 0, 3), -1); // no such CPU
  t.is(m.lookupValueOffset(u32(3), 0, 0), -1);
  t.is(m.updateElem(u32(1), 0, bytes(5, 0, 0, 0), 0, ANY, 2), 0);
  t.is(m.updateElem(u32(1), 0, bytes(5, 0, 0, 0), 0, ANY, 3), -EINVAL);
  t.is(m.updateElem(u32(1), 0, bytes(5, 0, 0, 0), 0, NOEXIST, 0), -EEXIST);
  t.is(m.updateElem(u32(3), 0, bytes(5, 0, 0, 0), 0, ANY, 0), -E2BIG);
  t.is(m.updateElem(u32(1), 0, bytes(5, 0, 0, 0), 0, F_LOCK, 0), -EINVAL);
  t.is(readU32(m.values.subarray(o2, o2 + 4)), 5);
  t.is(readU32(m.values.subarray(o0, o0 + 4)), 0);
  // User space sees every CPU's value, each rounded up to 8 bytes.
  t.deepEqual(m.lookup(u32(1)), bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0));
  t.is(m.lookup(u32(3)), undefined);
});

test('PERCPU_ARRAY: user update takes all CPUs; errors as bpf_percpu_array_update', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 2), { nrCpus: 2 });
  const v = bytes(1, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 2, 0, 0, 0, 0, 0, 0, 0);
  t.is(m.update(u32(0), v), 0);
  t.deepEqual(m.lookup(u32(0)), v); // the rounded area is copied both ways
  t.is(readU32(m.values.subarray(m.lookupValueOffset(u32(0), 0, 1))), 2);
  t.is(m.update(u32(0), v, NOEXIST), -EEXIST);
  t.is(m.update(u32(0), v, EXIST), 0);
  t.is(m.update(u32(2), v), -E2BIG);
  t.is(m.update(u32(0), v, 3), -EINVAL);
  t.is(m.update(u32(0), v, F_LOCK), -EINVAL);
  t.is(m.update(u32(0), v.subarray(0, 8)), -EFAULT); // one CPU's worth is not enough
  t.is(m.delete(u32(0)), -EINVAL);
  t.deepEqual(iterate(m, (k) => String(readU32(k))), ['0', '1']);
  t.is(m.share().nrCpus, 2);
  const other = openSharedMap(m.share());
  t.deepEqual(other.lookup(u32(0)), v);
});

test('PERCPU_ARRAY: nrCpus defaults to 2', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1));
  t.is(m.share().nrCpus, 2);
  t.is(m.lookup(u32(0))?.length, 16);
});

// --- HASH ---

test('HASH: insert, lookup, replace, delete and their errors', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_HASH, 4, 6, 3));
  t.is(m.lookup(u32(7)), undefined);
  t.is(m.lookupValueOffset(u32(7), 0, 0), -1);
  t.is(m.update(u32(7), bytes(1, 2, 3, 4, 5, 6), EXIST), -ENOENT);
  t.is(m.update(u32(7), bytes(1, 2, 3, 4, 5, 6), NOEXIST), 0);
  t.deepEqual(m.lookup(u32(7)), bytes(1, 2, 3, 4, 5, 6));
  t.is(m.update(u32(7), bytes(0, 0, 0, 0, 0, 0), NOEXIST), -EEXIST);
  t.is(m.update(u32(7), bytes(6, 5, 4, 3, 2, 1), EXIST), 0);
  t.deepEqual(m.lookup(u32(7)), bytes(6, 5, 4, 3, 2, 1));
  t.is(m.update(u32(7), bytes(0, 0, 0, 0, 0, 0), 3), -EINVAL);
  t.is(m.update(u32(7), bytes(0, 0, 0, 0, 0, 0), F_LOCK), -EINVAL);
  t.is(m.update(u32(7), bytes(0, 0, 0, 0, 0, 0), 1.5), -EINVAL);
  t.is(m.update(u32(7), bytes(0, 0, 0)), -EFAULT);
  t.is(m.update(u32(8), bytes(8, 8, 8, 8, 8, 8)), 0);
  t.is(m.update(u32(9), bytes(9, 9, 9, 9, 9, 9), ANY), 0);
  // Full: a new key is E2BIG, whatever the flag; existing keys can still be replaced.
  t.is(m.update(u32(10), bytes(0, 0, 0, 0, 0, 0)), -E2BIG);
  t.is(m.update(u32(10), bytes(0, 0, 0, 0, 0, 0), NOEXIST), -E2BIG);
  t.is(m.update(u32(10), bytes(0, 0, 0, 0, 0, 0), EXIST), -ENOENT);
  for (let i = 0; i < 20; i++) t.is(m.update(u32(8), bytes(i, 0, 0, 0, 0, 0)), 0);
  t.deepEqual(m.lookup(u32(8)), bytes(19, 0, 0, 0, 0, 0));
  t.is(m.delete(u32(10)), -ENOENT);
  t.is(m.delete(u32(8)), 0);
  t.is(m.delete(u32(8)), -ENOENT);
  t.is(m.lookup(u32(8)), undefined);
  t.is(m.update(u32(10), bytes(1, 0, 0, 0, 0, 0)), 0);
  t.is((m as HashMap).count(), 3);
  t.deepEqual(iterate(m, (k) => String(readU32(k))).sort(), ['10', '7', '9']);
});

test('HASH: program-side calls read keys and values at offsets; offsets point at the value', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_HASH, 8, 4, 8));
  const stack = new Uint8Array(32);
  stack.set(u64(0x1122334455), 4);
  stack.set(bytes(0xde, 0xad, 0xbe, 0xef), 20);
  t.is(m.updateElem(stack, 4, stack, 20, ANY, 0), 0);
  const off = m.lookupValueOffset(stack, 4, 1);
  t.true(off >= 0);
  t.is(off % 8, 0);
  t.deepEqual(m.values.subarray(off, off + 4), bytes(0xde, 0xad, 0xbe, 0xef));
  // A program writing through its pointer changes the map's value.
  m.values[off] = 0x11;
  t.deepEqual(m.lookup(u64(0x1122334455)), bytes(0x11, 0xad, 0xbe, 0xef));
  t.is(m.lookupValueOffset(stack, 26, 0), -1); // key past the end of the buffer
  t.is(m.updateElem(stack, 4, stack, 30, ANY, 0), -EFAULT);
  t.is(m.deleteElem(stack, 4), 0);
  t.is(m.deleteElem(stack, 4), -ENOENT);
  t.is(m.lookupValueOffset(stack, 4, 0), -1);
});

test('HASH: an update replaces the element, so an old pointer keeps the old value for a while', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_HASH, 4, 4, 4));
  t.is(m.update(u32(1), u32(100)), 0);
  const before = m.lookupValueOffset(u32(1), 0, 0);
  t.is(m.update(u32(1), u32(200)), 0);
  const after = m.lookupValueOffset(u32(1), 0, 0);
  t.not(after, before);
  t.is(readU32(m.values.subarray(before, before + 4)), 100);
  t.is(readU32(m.values.subarray(after, after + 4)), 200);
  // Freed elements go to the back of a FIFO: the old one is not reused by the next insertions.
  t.is(m.update(u32(2), u32(300)), 0);
  t.is(m.update(u32(3), u32(400)), 0);
  t.is(readU32(m.values.subarray(before, before + 4)), 100);
});

test('HASH: getNextKey visits every key exactly once, whatever the key size', (t) => {
  for (const keySize of [1, 3, 4, 6, 8, 13, 64]) {
    const maxEntries = keySize === 1 ? 200 : 300;
    const m = createMap(spec(T.BPF_MAP_TYPE_HASH, keySize, 4, maxEntries));
    const keys = new Set<string>();
    for (let i = 0; i < maxEntries; i++) {
      const k = new Uint8Array(keySize);
      for (let j = 0; j < keySize; j++) k[j] = (i * (j + 7) + (i >> 8) * 31 + j) & 0xff;
      k[0] = i & 0xff;
      if (keySize > 1) k[1] = i >> 8;
      keys.add(Buffer.from(k).toString('hex'));
      t.is(m.update(k, u32(i), NOEXIST), 0, `key size ${keySize}, key ${i}`);
    }
    t.is(m.update(new Uint8Array(keySize).fill(0xee), u32(0), NOEXIST), -E2BIG);
    const seen = iterate(m);
    t.is(seen.length, keys.size, `key size ${keySize}`);
    t.deepEqual([...seen].sort(), [...keys].sort());
    // Each key's value is the one written for it.
    for (const hex of seen) {
      const k = Uint8Array.from(Buffer.from(hex, 'hex'));
      t.is(m.lookup(k)?.length, 4);
    }
  }
});

test('HASH: getNextKey order: missing key restarts, last key ends, deletes during the walk', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_HASH, 4, 4, 64));
  t.is(m.getNextKey(undefined), undefined);
  t.is(m.getNextKey(u32(5)), undefined);
  for (let i = 0; i < 50; i++) m.update(u32(i), u32(i));
  const order = iterate(m, (k) => String(readU32(k)));
  t.is(order.length, 50);
  t.deepEqual(m.getNextKey(u32(1000)), m.getNextKey(undefined)); // absent key: first key
  t.is(m.getNextKey(u32(Number(order[49]))), undefined);
  for (let i = 0; i < 49; i++) t.deepEqual(m.getNextKey(u32(Number(order[i]))), u32(Number(order[i + 1])));
  // Deleting the current key while walking, as `bpftool map delete` loops do, still ends.
  let k = m.getNextKey(undefined);
  let n = 0;
  while (k !== undefined && n < 1000) {
    const next = m.getNextKey(k);
    t.is(m.delete(k), 0);
    k = next;
    n++;
  }
  t.is(n, 50);
  t.is(m.getNextKey(undefined), undefined);
});

test('HASH: agrees with a model under a random mix of operations', (t) => {
  const maxEntries = 40;
  const m = createMap(spec(T.BPF_MAP_TYPE_HASH, 5, 4, maxEntries));
  const model = new Map<string, number>();
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  for (let i = 0; i < 20_000; i++) {
    const kn = rand(60);
    const key = bytes(kn, 0, kn * 3, 1, 0);
    const id = String(kn);
    const op = rand(10);
    if (op < 3) {
      t.is(m.delete(key), model.delete(id) ? 0 : -ENOENT);
    } else if (op < 9) {
      const flags = rand(3);
      const has = model.has(id);
      const want = flags === NOEXIST && has ? -EEXIST : flags === EXIST && !has ? -ENOENT
        : !has && model.size >= maxEntries ? -E2BIG : 0;
      t.is(m.update(key, u32(i), flags), want);
      if (want === 0) model.set(id, i);
    } else {
      const v = m.lookup(key);
      t.is(readU32(v), model.get(id));
      const off = m.lookupValueOffset(key, 0, 0);
      t.is(off >= 0 ? readU32(m.values.subarray(off, off + 4)) : undefined, model.get(id));
    }
  }
  const dumped = dumpMap(m);
  t.is(dumped.length, model.size);
  for (const { key, value } of dumped) t.is(readU32(value), model.get(String(key[0])));
  t.is((m as HashMap).count(), model.size);
});

test('HASH: BPF_F_ZERO_SEED hashes with seed 0', (t) => {
  const a = createMap(spec(T.BPF_MAP_TYPE_HASH, 4, 4, 16));
  const z = createMap(spec(T.BPF_MAP_TYPE_HASH, 4, 4, 16, { flags: 1 << 6 }));
  for (let i = 0; i < 16; i++) {
    a.update(u32(i), u32(i));
    z.update(u32(i), u32(i));
  }
  t.is(iterate(a).length, 16);
  t.is(iterate(z).length, 16);
  // With seed 0 the first bucket holding a key is predictable from jhash alone.
  const firstBucket = Math.min(...Array.from({ length: 16 }, (_, i) => jhash1word(i, 0) & 15));
  const first = readU32(z.getNextKey(undefined)) ?? -1;
  t.is(jhash1word(first, 0) & 15, firstBucket);
});

// --- DEVMAP ---

test('DEVMAP: empty slots miss; update, clear, delete (devmap.c)', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_DEVMAP, 4, 4, 4));
  t.is(m.lookup(u32(0)), undefined);
  t.is(m.lookupValueOffset(u32(0), 0, 0), -1);
  t.is(m.update(u32(1), u32(7)), 0);
  t.deepEqual(m.lookup(u32(1)), u32(7));
  t.is(m.lookupValueOffset(u32(1), 0, 0), 8);
  t.is(readU32(m.values.subarray(8, 12)), 7);
  t.is(m.update(u32(1), u32(9), EXIST), 0);
  t.is(m.update(u32(2), u32(9), EXIST), 0); // every slot "exists", as in an array
  t.is(m.update(u32(1), u32(9), NOEXIST), -EEXIST);
  t.is(m.update(u32(4), u32(9)), -E2BIG);
  t.is(m.update(u32(1), u32(9), 3), -EINVAL);
  t.is(m.update(u32(1), u32(9), F_LOCK), -EINVAL);
  t.is(m.update(u32(1), u32(0)), 0); // ifindex 0 clears the slot
  t.is(m.lookup(u32(1)), undefined);
  t.is(m.delete(u32(2)), 0);
  t.is(m.lookup(u32(2)), undefined);
  t.is(m.delete(u32(2)), 0); // deleting an empty slot is fine
  t.is(m.delete(u32(4)), -EINVAL);
  t.is(m.deleteElem(u32(4), 0), -EINVAL);
});

test('DEVMAP: 8-byte values carry a prog fd, which needs an ifindex', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_DEVMAP, 4, 8, 2));
  const v = bytes(3, 0, 0, 0, 5, 0, 0, 0);
  t.is(m.update(u32(0), v), 0);
  t.deepEqual(m.lookup(u32(0)), v);
  t.deepEqual(m.values.subarray(0, 8), v);
  t.is(m.update(u32(1), bytes(0, 0, 0, 0, 5, 0, 0, 0)), -EINVAL);
  t.is(m.update(u32(1), bytes(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff)), 0); // fd -1: no program
  t.is(m.lookup(u32(1)), undefined);
  t.is(m.update(u32(1), bytes(0, 0, 0)), -EFAULT);
});

test('DEVMAP: getNextKey walks indices without skipping empty slots; dump skips them', (t) => {
  const m = createMap(spec(T.BPF_MAP_TYPE_DEVMAP, 4, 4, 3));
  m.update(u32(2), u32(4));
  t.deepEqual(m.getNextKey(undefined), u32(0));
  t.deepEqual(m.getNextKey(u32(0)), u32(1));
  t.deepEqual(m.getNextKey(u32(1)), u32(2));
  t.is(m.getNextKey(u32(2)), undefined);
  t.deepEqual(m.getNextKey(u32(3)), u32(0));
  t.deepEqual(dumpMap(m), [{ key: u32(2), value: u32(4) }]);
});

// --- dumps, sharing, helpers ---

test('dumpMap: ARRAY every slot in index order; HASH in getNextKey order', (t) => {
  const a = createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 3));
  a.update(u32(1), u32(11));
  t.deepEqual(dumpMap(a), [
    { key: u32(0), value: u32(0) },
    { key: u32(1), value: u32(11) },
    { key: u32(2), value: u32(0) },
  ]);
  const p = createMap(spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 1), { nrCpus: 2 });
  t.is(dumpMap(p)[0]?.value.length, 16);
  const h = createMap(spec(T.BPF_MAP_TYPE_HASH, 4, 4, 32));
  for (let i = 0; i < 20; i++) h.update(u32(i * 7), u32(i));
  const d = dumpMap(h);
  t.deepEqual(d.map((e) => readU32(e.key)), iterate(h, (k) => String(readU32(k))).map(Number));
  for (const e of d) t.is((readU32(e.value) ?? -1) * 7, readU32(e.key) ?? -2);
});

test('openSharedMap: a reopened map shares the memory, not a copy', (t) => {
  for (const s of [spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 4), spec(T.BPF_MAP_TYPE_PERCPU_ARRAY, 4, 4, 4),
    spec(T.BPF_MAP_TYPE_HASH, 4, 4, 4), spec(T.BPF_MAP_TYPE_DEVMAP, 4, 4, 4)]) {
    const a = createMap(s);
    const state = a.share();
    const b = openSharedMap(structuredClone(state));
    const v = s.type === T.BPF_MAP_TYPE_PERCPU_ARRAY ? new Uint8Array(16).fill(3) : u32(3);
    t.is(a.update(u32(1), v), 0);
    t.deepEqual(b.lookup(u32(1)), v);
    t.is(b.lookupValueOffset(u32(1), 0, 0), a.lookupValueOffset(u32(1), 0, 0));
    if (s.type === T.BPF_MAP_TYPE_HASH || s.type === T.BPF_MAP_TYPE_DEVMAP) {
      t.is(b.delete(u32(1)), 0);
      t.is(a.lookup(u32(1)), undefined);
    }
    // Writes through one map's values are seen through the other's.
    b.values[0] = 0x5a;
    t.is(a.values[0], 0x5a);
  }
});

test('openSharedMap: refuses buffers that do not fit the spec', (t) => {
  const h = createMap(spec(T.BPF_MAP_TYPE_HASH, 4, 4, 4));
  const state = h.share();
  t.throws(() => openSharedMap({ ...state, spec: { ...state.spec, maxEntries: 400 } }), { instanceOf: BpfError, message: /shared buffer|does not match/ });
  t.throws(() => openSharedMap({ ...state, buffers: [state.buffers[0]!] }), { instanceOf: BpfError, message: /missing/ });
  t.throws(() => openSharedMap({ ...state, nrCpus: 0 }), { instanceOf: BpfError });
  t.throws(() => openSharedMap({ ...state, spec: { ...state.spec, type: 22 } }), { instanceOf: BpfError, message: /not supported/ });
  const a = createMap(spec(T.BPF_MAP_TYPE_ARRAY, 4, 4, 4));
  t.throws(() => openSharedMap({ ...a.share(), spec: { ...a.spec, maxEntries: 5 } }), { instanceOf: BpfError, message: /needs 40/ });
});

test('jhash: the one- and two-word shortcuts equal jhash2', (t) => {
  const w = new Int32Array(3);
  let x = 1;
  for (let i = 0; i < 1000; i++) {
    x = (Math.imul(x, 48271) + 11) | 0;
    w[0] = x;
    w[1] = x ^ 0x5bd1e995;
    t.is(jhash1word(w[0]!, i), jhash2(w, 0, 1, i));
    t.is(jhash2words(w[0]!, w[1]!, i), jhash2(w, 0, 2, i));
  }
  t.is(jhash2(w, 0, 0, 7), (0xdeadbeef + 7) >>> 0); // no words: the initial value
  // Results are u32 and spread over buckets.
  const buckets = new Set<number>();
  for (let i = 0; i < 256; i++) buckets.add(jhash1word(i, 0) & 255);
  t.true(buckets.size > 140);
});

test('lock: acquire/release in one thread', (t) => {
  const word = new Int32Array(new SharedArrayBuffer(8));
  lockAcquire(word, 1);
  t.is(Atomics.load(word, 1), 1);
  lockRelease(word, 1);
  t.is(Atomics.load(word, 1), 0);
  lockAcquire(word, 1);
  lockRelease(word, 1);
  t.is(Atomics.load(word, 1), 0);
});
