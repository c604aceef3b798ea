// The map contract: program-side calls (hot: offsets and negative errno, never exceptions) and
// user-space calls (the bpf() syscall's semantics: copies in and out).
import type { SharedMapState } from './shared.ts';

export const BPF_MAP_TYPE = {
  BPF_MAP_TYPE_HASH: 1,
  BPF_MAP_TYPE_ARRAY: 2,
  BPF_MAP_TYPE_PROG_ARRAY: 3,
  BPF_MAP_TYPE_PERCPU_HASH: 5,
  BPF_MAP_TYPE_PERCPU_ARRAY: 6,
  BPF_MAP_TYPE_LRU_HASH: 9,
  BPF_MAP_TYPE_LRU_PERCPU_HASH: 10,
  BPF_MAP_TYPE_LPM_TRIE: 11,
  BPF_MAP_TYPE_DEVMAP: 14,
  BPF_MAP_TYPE_SOCKMAP: 15,
  BPF_MAP_TYPE_CPUMAP: 16,
  BPF_MAP_TYPE_XSKMAP: 17,
  BPF_MAP_TYPE_SOCKHASH: 18,
  BPF_MAP_TYPE_DEVMAP_HASH: 25,
  BPF_MAP_TYPE_RINGBUF: 27,
} as const;

/** Flags of BPF_MAP_UPDATE_ELEM. */
export const BPF_UPDATE = {
  BPF_ANY: 0,
  BPF_NOEXIST: 1,
  BPF_EXIST: 2,
} as const;

/** map_flags bits (uapi bpf.h) that map creation knows. */
export const BPF_MAP_FLAG = {
  BPF_F_NO_PREALLOC: 1 << 0,
  BPF_F_NO_COMMON_LRU: 1 << 1,
  BPF_F_NUMA_NODE: 1 << 2,
  BPF_F_RDONLY: 1 << 3,
  BPF_F_WRONLY: 1 << 4,
  BPF_F_ZERO_SEED: 1 << 6,
  BPF_F_RDONLY_PROG: 1 << 7,
  BPF_F_WRONLY_PROG: 1 << 8,
  BPF_F_MMAPABLE: 1 << 10,
  BPF_F_PRESERVE_ELEMS: 1 << 11,
  BPF_F_INNER_MAP: 1 << 12,
} as const;

export interface MapSpec {
  /** The map's name (the ELF symbol, or `.data`/`.rodata`/`.bss` for global data). */
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Initial value of element 0, for global-data maps. */
  initialValue?: Uint8Array;
  /** Key and value type names from BTF, when the object carries them (for dumps). */
  btf?: { keyType?: string; valueType?: string };
}

export interface BpfMap {
  readonly spec: MapSpec;
  /**
   * The value storage: program pointers into this map's values are offsets into this view.
   * It lies on a SharedArrayBuffer, starts 8-byte aligned, and holds nothing but values, so a
   * stray program write can corrupt values but never the map's own structure.
   */
  readonly values: Uint8Array;

  // --- program side: called by helpers on the hot path ---
  /** Byte offset of the value in `values`, or -1 when the key is absent. PERCPU maps pick `cpu`'s copy. */
  lookupValueOffset(key: Uint8Array, keyOff: number, cpu: number): number;
  /** 0 or a negative errno, as bpf_map_update_elem returns. */
  updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, cpu: number): number;
  /** 0 or a negative errno, as bpf_map_delete_elem returns. */
  deleteElem(key: Uint8Array, keyOff: number): number;

  // --- user space: the bpf() syscall commands ---
  /** A copy of the value (PERCPU: every CPU's value, each rounded up to 8 bytes), or undefined. */
  lookup(key: Uint8Array): Uint8Array | undefined;
  /** 0 or a negative errno. PERCPU maps take every CPU's value, as lookup returns them. */
  update(key: Uint8Array, value: Uint8Array, flags?: number): number;
  /** 0 or a negative errno. */
  delete(key: Uint8Array): number;
  /** The key after `key` (the first key when `key` is undefined or absent), or undefined at the end. */
  getNextKey(key: Uint8Array | undefined): Uint8Array | undefined;

  /** Everything another worker needs to open the same map (postMessage-able). */
  share(): SharedMapState;
}
