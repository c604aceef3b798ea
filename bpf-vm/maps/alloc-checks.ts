// The kernel's map_alloc_check rules for the map types of percpu-hash.ts, lru-hash.ts,
// lpm-trie.ts, sockmap.ts and sockhash.ts (HASH's own checks stay in create.ts, and apply to all hash flavours first).
import type { BpfErrorCode } from '../errors.ts';
import { BPF_MAP_FLAG, BPF_MAP_TYPE, type MapSpec } from './map.ts';
import { roundUp8 } from './mem.ts';
import { LPM_DATA_SIZE_MAX, LPM_DATA_SIZE_MIN, LPM_KEY_HEADER } from './lpm-trie.ts';
import { SOCK_CREATE_FLAG_MASK } from './sock-map-ops.ts';

type Fail = (code: BpfErrorCode, why: string) => never;
const F = BPF_MAP_FLAG;
const T = BPF_MAP_TYPE;

/** PCPU_MIN_UNIT_SIZE: the kernel's bound on one per-CPU value. */
const PCPU_MIN_UNIT_SIZE = 32 << 10;
/** KMALLOC_MAX_SIZE (x86-64) and sizeof(struct lpm_trie_node) (rcu head, children, prefixlen, flags). */
const KMALLOC_MAX_SIZE = 4 << 20;
const LPM_NODE_SIZE = 40;
const LPM_VAL_SIZE_MAX = KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - LPM_NODE_SIZE;
const BPF_F_ACCESS_MASK = F.BPF_F_RDONLY | F.BPF_F_WRONLY | F.BPF_F_RDONLY_PROG | F.BPF_F_WRONLY_PROG;
const LPM_CREATE_FLAG_MASK = F.BPF_F_NO_PREALLOC | F.BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK;

export function isLruHash(type: number): boolean {
  return type === T.BPF_MAP_TYPE_LRU_HASH || type === T.BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/**
 * htab_map_alloc_check's rules for the per-CPU and LRU flavours (after HASH's): LRU maps are
 * always preallocated (BPF_F_NO_PREALLOC is ENOTSUPP); BPF_F_NO_COMMON_LRU is for LRU maps only;
 * per-CPU maps may not pin a NUMA node, and each CPU's value is at most PCPU_MIN_UNIT_SIZE.
 */
export function htabFlavourAllocCheck(spec: MapSpec, fail: Fail): void {
  const lru = isLruHash(spec.type);
  const percpu = spec.type === T.BPF_MAP_TYPE_PERCPU_HASH || spec.type === T.BPF_MAP_TYPE_LRU_PERCPU_HASH;
  const percpuLru = lru && (spec.flags & F.BPF_F_NO_COMMON_LRU) !== 0;
  if (!lru && spec.flags & F.BPF_F_NO_COMMON_LRU) fail('EINVAL', 'BPF_F_NO_COMMON_LRU on a non-LRU map');
  if ((percpu || percpuLru) && spec.flags & F.BPF_F_NUMA_NODE) fail('EINVAL', 'BPF_F_NUMA_NODE on a per-CPU map or per-CPU LRU');
  if (lru && spec.flags & F.BPF_F_NO_PREALLOC) fail('ENOTSUPP', 'LRU maps are always preallocated: BPF_F_NO_PREALLOC is not supported');
  if (percpu && roundUp8(spec.valueSize) > PCPU_MIN_UNIT_SIZE) {
    fail('E2BIG', `per-CPU value_size ${spec.valueSize} > PCPU_MIN_UNIT_SIZE ${PCPU_MIN_UNIT_SIZE}`);
  }
}

/**
 * trie_alloc's checks: max_entries > 0, BPF_F_NO_PREALLOC set (the trie allocates nodes on
 * demand), no other flags than NUMA and access ones, a key of a u32 prefixlen and 1 to 256 data
 * bytes (key_size 5 to 260), a value of 1 byte to LPM_VAL_SIZE_MAX. All EINVAL, as in the kernel.
 */
export function lpmAllocCheck(spec: MapSpec, fail: Fail): void {
  if (spec.maxEntries === 0) fail('EINVAL', 'max_entries must be > 0');
  if (!(spec.flags & F.BPF_F_NO_PREALLOC)) fail('EINVAL', 'LPM_TRIE maps need BPF_F_NO_PREALLOC in map_flags');
  const unknown = (spec.flags & ~LPM_CREATE_FLAG_MASK) >>> 0;
  if (unknown !== 0) fail('EINVAL', `map_flags 0x${unknown.toString(16)} not supported for LPM_TRIE`);
  if ((spec.flags & F.BPF_F_RDONLY) && (spec.flags & F.BPF_F_WRONLY)) fail('EINVAL', 'BPF_F_RDONLY and BPF_F_WRONLY together');
  if ((spec.flags & F.BPF_F_RDONLY_PROG) && (spec.flags & F.BPF_F_WRONLY_PROG)) {
    fail('EINVAL', 'BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together');
  }
  const minKey = LPM_KEY_HEADER + LPM_DATA_SIZE_MIN;
  const maxKey = LPM_KEY_HEADER + LPM_DATA_SIZE_MAX;
  if (spec.keySize < minKey || spec.keySize > maxKey) {
    fail('EINVAL', `key_size ${spec.keySize}: LPM_TRIE keys are a u32 prefixlen and 1..${LPM_DATA_SIZE_MAX} data bytes (key_size ${minKey}..${maxKey})`);
  }
  if (spec.valueSize < 1 || spec.valueSize > LPM_VAL_SIZE_MAX) {
    fail('EINVAL', `value_size ${spec.valueSize}: LPM_TRIE values are 1..${LPM_VAL_SIZE_MAX} bytes`);
  }
}

/** MAX_BPF_STACK: the largest SOCKHASH key (a program's key lives on its stack). */
const MAX_BPF_STACK = 512;
/** sizeof(struct bpf_shtab_bucket): SOCKHASH refuses more buckets than U32_MAX / 16. */
const SHTAB_BUCKET_SIZE = 16;

/**
 * sock_map_alloc and sock_hash_alloc: max_entries > 0, a value of 4 or 8 bytes (a socket fd as
 * user space writes it), no flags but NUMA and access ones, all EINVAL; SOCKMAP keys are a u32
 * index; SOCKHASH keys are 1 to MAX_BPF_STACK bytes (E2BIG past it) and its buckets,
 * roundup_pow_of_two(max_entries), must fit U32_MAX / 16 (EINVAL: max_entries above 2^27).
 */
export function sockMapAllocCheck(spec: MapSpec, fail: Fail): void {
  const hash = spec.type === T.BPF_MAP_TYPE_SOCKHASH;
  if (spec.maxEntries === 0) fail('EINVAL', 'max_entries must be > 0');
  if (!hash && spec.keySize !== 4) fail('EINVAL', `key_size ${spec.keySize}: SOCKMAP takes 4-byte keys (an index)`);
  if (hash && spec.keySize === 0) fail('EINVAL', 'key_size must be > 0');
  if (spec.valueSize !== 4 && spec.valueSize !== 8) {
    fail('EINVAL', `value_size ${spec.valueSize}: socket maps take a 4- or 8-byte socket fd`);
  }
  const unknown = (spec.flags & ~SOCK_CREATE_FLAG_MASK) >>> 0;
  if (unknown !== 0) fail('EINVAL', `map_flags 0x${unknown.toString(16)} not supported for socket maps (NUMA_NODE, RDONLY, WRONLY only)`);
  if ((spec.flags & F.BPF_F_RDONLY) && (spec.flags & F.BPF_F_WRONLY)) fail('EINVAL', 'BPF_F_RDONLY and BPF_F_WRONLY together');
  if (hash && spec.keySize > MAX_BPF_STACK) fail('E2BIG', `key_size ${spec.keySize} > MAX_BPF_STACK ${MAX_BPF_STACK}`);
  if (hash) {
    let buckets = 1;
    while (buckets < spec.maxEntries) buckets *= 2;
    if (buckets > 0xffffffff / SHTAB_BUCKET_SIZE) fail('EINVAL', `max_entries ${spec.maxEntries}: ${buckets} buckets are more than U32_MAX / ${SHTAB_BUCKET_SIZE}`);
  }
}
