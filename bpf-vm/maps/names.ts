// enum bpf_map_type (uapi linux/bpf.h) by name, every type Linux defines, so that any map type
// can be named: bpftool's lower-case names in listings, the enum's names in errors.
import { BPF_MAP_TYPE } from './map.ts';

/** The enum's names without BPF_MAP_TYPE_, in value order: 0 (UNSPEC) to 34 (INSN_ARRAY). */
const LINUX_MAP_TYPES: readonly string[] = [
  'UNSPEC', 'HASH', 'ARRAY', 'PROG_ARRAY', 'PERF_EVENT_ARRAY', 'PERCPU_HASH', 'PERCPU_ARRAY',
  'STACK_TRACE', 'CGROUP_ARRAY', 'LRU_HASH', 'LRU_PERCPU_HASH', 'LPM_TRIE', 'ARRAY_OF_MAPS',
  'HASH_OF_MAPS', 'DEVMAP', 'SOCKMAP', 'CPUMAP', 'XSKMAP', 'SOCKHASH', 'CGROUP_STORAGE',
  'REUSEPORT_SOCKARRAY', 'PERCPU_CGROUP_STORAGE', 'QUEUE', 'STACK', 'SK_STORAGE', 'DEVMAP_HASH',
  'STRUCT_OPS', 'RINGBUF', 'INODE_STORAGE', 'TASK_STORAGE', 'BLOOM_FILTER', 'USER_RINGBUF',
  'CGRP_STORAGE', 'ARENA', 'INSN_ARRAY',
];

/** `LRU_HASH` for 9; undefined for a number no kernel defines. */
export function linuxMapTypeName(type: number): string | undefined {
  return Number.isInteger(type) && type >= 0 ? LINUX_MAP_TYPES[type] : undefined;
}

/** `LRU_HASH (9)`, or `map type 99` for a number no kernel defines: how errors name a type. */
export function mapTypeLabel(type: number): string {
  const n = linuxMapTypeName(type);
  return n === undefined ? `map type ${type}` : `${n} (${type})`;
}

/** The name bpftool prints for a map type (e.g. `array`, `hash`, `lru_hash`); `type N` for an unknown one. */
export function mapTypeName(type: number): string {
  const n = linuxMapTypeName(type);
  return n === undefined ? `type ${type}` : n.toLowerCase();
}

/** The map types vxo implements (BPF_MAP_TYPE lists more, for the names programs use). */
export const VXO_MAP_TYPES: readonly number[] = [
  BPF_MAP_TYPE.BPF_MAP_TYPE_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP,
  BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF, BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY,
  BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE.BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH,
  BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP, BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH,
];
