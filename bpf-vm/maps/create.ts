// BPF_MAP_CREATE: checks a spec the way the kernel's map_alloc_check functions do, then builds the
// map in shared memory; and the other half, reopening a shared map in another worker.
import type { BpfMap, MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE } from './map.ts';
import { BpfError, type BpfErrorCode } from '../errors.ts';
import { ArrayMap, arrayValuesBytes } from './array.ts';
import { PercpuArrayMap, percpuArrayValuesBytes } from './percpu-array.ts';
import { HashMap, hashGeometry } from './hash.ts';
import { DevMap, devmapValuesBytes } from './devmap.ts';
import { PercpuHashMap } from './percpu-hash.ts';
import { LruHashMap, lruListWords } from './lru-hash.ts';
import { DevMapHash } from './devmap-hash.ts';
import { LpmTrieMap, lpmGeometry } from './lpm-trie.ts';
import { htabFlavourAllocCheck, isLruHash, lpmAllocCheck, sockMapAllocCheck } from './alloc-checks.ts';
import { SockMap, sockmapBytes } from './sockmap.ts';
import { SockHash } from './sockhash.ts';
import { roundUp8 } from './mem.ts';
import { RingBufMap, ringbufAllocCheck, ringbufBytes } from './ringbuf.ts';
import { ProgArrayMap, progArrayAllocCheck, progArrayBytes } from './prog-array.ts';
import { linuxMapTypeName, mapTypeLabel, VXO_MAP_TYPES } from './names.ts';

const BPF_MAP_TYPE_UNSPEC = 0;

export interface CreateMapOptions {
  /** CPUs (workers running programs) a PERCPU map keeps a copy for; also sizes HASH spares. Default 2. */
  nrCpus?: number;
  /** Memory budget for this map's buffers, in bytes (the memcg/RLIMIT_MEMLOCK charge). Default 1 GiB. */
  maxBytes?: number;
}

export const DEFAULT_NR_CPUS = 2;
export const DEFAULT_MAX_BYTES = 1 << 30;
/** More CPUs than any worker pool here will have; keeps nrCpus * value sizes sane. */
const MAX_NR_CPUS = 256;

const F = BPF_MAP_FLAG;

const BPF_F_ACCESS_MASK = F.BPF_F_RDONLY | F.BPF_F_WRONLY | F.BPF_F_RDONLY_PROG | F.BPF_F_WRONLY_PROG;
const ARRAY_CREATE_FLAG_MASK =
  F.BPF_F_NUMA_NODE | F.BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | F.BPF_F_PRESERVE_ELEMS | F.BPF_F_INNER_MAP;
const HTAB_CREATE_FLAG_MASK =
  F.BPF_F_NO_PREALLOC | F.BPF_F_NO_COMMON_LRU | F.BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK | F.BPF_F_ZERO_SEED;
const DEV_CREATE_FLAG_MASK = F.BPF_F_NUMA_NODE | F.BPF_F_RDONLY | F.BPF_F_WRONLY;

/**
 * Largest value this emulator accepts (1 MiB). The kernel allows arrays up to INT_MAX and hash
 * key + value up to KMALLOC_MAX_SIZE; values here live in one SharedArrayBuffer addressed by
 * 32-bit offsets, and nothing in the project needs more.
 */
export const MAX_VALUE_SIZE = 1 << 20;
/** PCPU_MIN_UNIT_SIZE: the kernel's bound on one per-CPU value (round_up(value_size, 8)). */
const PCPU_MIN_UNIT_SIZE = 32 << 10;
/** KMALLOC_MAX_SIZE on x86-64 (order-10 pages) and sizeof(struct htab_elem): hashtab's key + value bound. */
const KMALLOC_MAX_SIZE = 4 << 20;
const HTAB_ELEM_SIZE = 48;
/** Program pointers are 32-bit offsets into `values`, and typed-array indices stay int32. */
const MAX_BUFFER_BYTES = 0x7fffffff;

function fail(code: BpfErrorCode, spec: MapSpec, why: string): never {
  throw new BpfError(code, `map '${spec.name}' (${linuxMapTypeName(spec.type) ?? `type ${spec.type}`}): ${why}`);
}

/** A type Linux has and vxo does not, named as such; a number no kernel defines, as the kernel refuses it. */
function unsupportedType(spec: MapSpec): never {
  const have = VXO_MAP_TYPES.map((t) => linuxMapTypeName(t)).join(', ');
  const name = linuxMapTypeName(spec.type);
  if (name === undefined || spec.type === BPF_MAP_TYPE_UNSPEC) {
    throw new BpfError('EINVAL', `map '${spec.name}': map type ${spec.type} is not a Linux map type (vxo has ${have})`);
  }
  throw new BpfError('EINVAL', `map '${spec.name}': ${mapTypeLabel(spec.type)} is not supported by vxo (it has ${have})`);
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** bpf_map_flags_access_ok: read-only and write-only together make no sense, on either side. */
function checkAccessFlags(spec: MapSpec): void {
  const f = spec.flags;
  if ((f & F.BPF_F_RDONLY) && (f & F.BPF_F_WRONLY)) fail('EINVAL', spec, 'BPF_F_RDONLY and BPF_F_WRONLY together');
  if ((f & F.BPF_F_RDONLY_PROG) && (f & F.BPF_F_WRONLY_PROG)) {
    fail('EINVAL', spec, 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together');
  }
}

function checkUnknownFlags(spec: MapSpec, mask: number): void {
  const unknown = (spec.flags & ~mask) >>> 0;
  if (unknown !== 0) fail('EINVAL', spec, `map_flags 0x${unknown.toString(16)} not supported for this map type`);
}

/** array_map_alloc_check, for ARRAY and PERCPU_ARRAY. */
function arrayAllocCheck(spec: MapSpec): void {
  const percpu = spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY;
  if (spec.maxEntries === 0) fail('EINVAL', spec, 'max_entries must be > 0');
  if (spec.keySize !== 4) fail('EINVAL', spec, `key_size ${spec.keySize}: array maps take 4-byte keys`);
  if (spec.valueSize === 0) fail('EINVAL', spec, 'value_size must be > 0');
  checkUnknownFlags(spec, ARRAY_CREATE_FLAG_MASK);
  checkAccessFlags(spec);
  if (percpu && spec.flags & F.BPF_F_NUMA_NODE) fail('EINVAL', spec, 'BPF_F_NUMA_NODE on a per-CPU map');
  if (spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY && spec.flags & (F.BPF_F_MMAPABLE | F.BPF_F_INNER_MAP)) {
    fail('EINVAL', spec, 'BPF_F_MMAPABLE/BPF_F_INNER_MAP only apply to ARRAY maps');
  }
  // BPF_F_PRESERVE_ELEMS belongs to PERF_EVENT_ARRAY, which is not supported.
  if (spec.flags & F.BPF_F_PRESERVE_ELEMS) fail('EINVAL', spec, 'BPF_F_PRESERVE_ELEMS only applies to PERF_EVENT_ARRAY');
  if (spec.valueSize > MAX_VALUE_SIZE) fail('E2BIG', spec, `value_size ${spec.valueSize} > ${MAX_VALUE_SIZE}`);
  if (percpu && roundUp8(spec.valueSize) > PCPU_MIN_UNIT_SIZE) {
    fail('E2BIG', spec, `per-CPU value_size ${spec.valueSize} > PCPU_MIN_UNIT_SIZE ${PCPU_MIN_UNIT_SIZE}`);
  }
  // array_map_alloc rounds max_entries up to a power of two (Spectre masking); past 2^31 that overflows.
  if (spec.maxEntries > 2 ** 31) fail('E2BIG', spec, `max_entries ${spec.maxEntries} overflows the index mask`);
}

/** htab_map_alloc_check plus htab_map_alloc's size checks, for HASH. */
function hashAllocCheck(spec: MapSpec): void {
  checkUnknownFlags(spec, HTAB_CREATE_FLAG_MASK);
  checkAccessFlags(spec);
  // BPF_F_NO_COMMON_LRU is for LRU maps only. BPF_F_NO_PREALLOC is accepted, but elements stay
  // preallocated: value offsets must be fixed for the map's life (see hash.ts).
  htabFlavourAllocCheck(spec, (code, why) => fail(code, spec, why));
  if (spec.maxEntries === 0 || spec.keySize === 0 || spec.valueSize === 0) {
    fail('EINVAL', spec, 'max_entries, key_size and value_size must be > 0');
  }
  if (spec.keySize + spec.valueSize >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE) {
    fail('E2BIG', spec, `key_size + value_size ${spec.keySize + spec.valueSize} too large`);
  }
  if (spec.valueSize > MAX_VALUE_SIZE) fail('E2BIG', spec, `value_size ${spec.valueSize} > ${MAX_VALUE_SIZE}`);
  if (spec.maxEntries > 2 ** 31) fail('E2BIG', spec, `max_entries ${spec.maxEntries} > 2^31`);
}

/** dev_map_alloc_check: 4-byte keys; values are an ifindex (4) or an ifindex and a prog fd (8). */
function devmapAllocCheck(spec: MapSpec): void {
  if (spec.maxEntries === 0) fail('EINVAL', spec, 'max_entries must be > 0');
  if (spec.keySize !== 4) fail('EINVAL', spec, `key_size ${spec.keySize}: devmap takes 4-byte keys`);
  if (spec.valueSize !== 4 && spec.valueSize !== 8) {
    fail('EINVAL', spec, `value_size ${spec.valueSize}: devmap values are 4 (ifindex) or 8 (ifindex, prog fd) bytes`);
  }
  checkUnknownFlags(spec, DEV_CREATE_FLAG_MASK);
}

interface Footprint {
  total: number;
  largest: number;
}

function footprint(spec: MapSpec, nrCpus: number): Footprint {
  switch (spec.type) {
    case BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY: {
      const v = arrayValuesBytes(spec);
      return { total: v, largest: v };
    }
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY: {
      const v = percpuArrayValuesBytes(spec, nrCpus);
      return { total: v, largest: v };
    }
    case BPF_MAP_TYPE.BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH: {
      const g = hashGeometry(spec, nrCpus);
      const lru = isLruHash(spec.type) ? lruListWords(spec, nrCpus) * 4 : 0;
      return { total: g.valuesBytes + g.metaWords * 4 + lru, largest: Math.max(g.valuesBytes, g.metaWords * 4, lru) };
    }
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LPM_TRIE: {
      const g = lpmGeometry(spec);
      return { total: g.valuesBytes + g.metaBytes, largest: Math.max(g.valuesBytes, g.metaBytes) };
    }
    case BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF:
      return { total: ringbufBytes(spec), largest: 2 * spec.maxEntries };
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY:
      return { total: progArrayBytes(spec), largest: progArrayBytes(spec) };
    case BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP:
      return { total: sockmapBytes(spec), largest: sockmapBytes(spec) };
    default: {
      const v = devmapValuesBytes(spec);
      return { total: v, largest: v };
    }
  }
}

/**
 * Creates a map in SharedArrayBuffers. Throws BpfError (code EINVAL, E2BIG or ENOMEM) for a spec
 * the kernel would refuse, or one over the memory budget; the message names the map and the rule.
 */
export function createMap(spec: MapSpec, opts: CreateMapOptions = {}): BpfMap {
  const nrCpus = opts.nrCpus ?? DEFAULT_NR_CPUS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(nrCpus) || nrCpus < 1 || nrCpus > MAX_NR_CPUS) {
    fail('EINVAL', spec, `nrCpus ${nrCpus} outside 1..${MAX_NR_CPUS}`);
  }
  for (const [field, v] of [['type', spec.type], ['key_size', spec.keySize], ['value_size', spec.valueSize],
    ['max_entries', spec.maxEntries], ['map_flags', spec.flags]] as const) {
    if (!isU32(v)) fail('EINVAL', spec, `${field} ${v} is not a u32`);
  }

  switch (spec.type) {
    case BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY:
      arrayAllocCheck(spec);
      break;
    case BPF_MAP_TYPE.BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH:
      hashAllocCheck(spec);
      break;
    case BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH:
      devmapAllocCheck(spec);
      break;
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LPM_TRIE:
      lpmAllocCheck(spec, (code, why) => fail(code, spec, why));
      break;
    case BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF:
      ringbufAllocCheck(spec, (code, why) => fail(code, spec, why));
      break;
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY:
      progArrayAllocCheck(spec, (code, why) => fail(code, spec, why));
      break;
    case BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH:
      sockMapAllocCheck(spec, (code, why) => fail(code, spec, why));
      break;
    default:
      unsupportedType(spec);
  }

  if (spec.initialValue !== undefined) {
    if (spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY) fail('EINVAL', spec, 'initialValue is only for ARRAY (global data) maps');
    if (spec.initialValue.length > spec.valueSize) {
      fail('EINVAL', spec, `initialValue has ${spec.initialValue.length} bytes, value_size is ${spec.valueSize}`);
    }
  }

  const need = footprint(spec, nrCpus);
  if (need.largest > MAX_BUFFER_BYTES) {
    fail('E2BIG', spec, `needs a ${need.largest}-byte buffer, more than 32-bit offsets can address`);
  }
  if (need.total > maxBytes) fail('ENOMEM', spec, `needs ${need.total} bytes, over the ${maxBytes}-byte budget`);

  switch (spec.type) {
    case BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY:
      return ArrayMap.create(spec, nrCpus);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY:
      return PercpuArrayMap.create(spec, nrCpus);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_HASH:
      return HashMap.create(spec, nrCpus);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH:
      return PercpuHashMap.create(spec, nrCpus);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH:
      return LruHashMap.create(spec, nrCpus);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH:
      return DevMapHash.create(spec, nrCpus);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LPM_TRIE:
      return LpmTrieMap.create(spec, nrCpus);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF:
      return RingBufMap.create(spec);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY:
      return ProgArrayMap.create(spec);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP:
      return SockMap.create(spec, nrCpus);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH:
      return SockHash.create(spec, nrCpus);
    default:
      return DevMap.create(spec, nrCpus);
  }
}

/**
 * Opens, in this worker, a map created in another one (or in this one): the same shared buffers,
 * nothing copied, nothing reinitialised.
 */
export function openSharedMap(state: SharedMapState): BpfMap {
  if (!Number.isInteger(state.nrCpus) || state.nrCpus < 1 || state.nrCpus > MAX_NR_CPUS) {
    throw new BpfError('EINVAL', `map '${state.spec.name}': shared state has nrCpus ${state.nrCpus}`);
  }
  switch (state.spec.type) {
    case BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY:
      return ArrayMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY:
      return PercpuArrayMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_HASH:
      return HashMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH:
      return PercpuHashMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH:
      return LruHashMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH:
      return DevMapHash.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP:
      return SockMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH:
      return SockHash.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_LPM_TRIE:
      return LpmTrieMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP:
      return DevMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF:
      return RingBufMap.open(state);
    case BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY:
      return ProgArrayMap.open(state);
    default:
      unsupportedType(state.spec);
  }
}
