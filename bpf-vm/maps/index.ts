// The maps of bpf-vm: the contract, map creation in shared memory, and the map types.
export * from './map.ts';
export type { SharedMapState } from './shared.ts';
export { createMap, openSharedMap, DEFAULT_NR_CPUS, DEFAULT_MAX_BYTES, MAX_VALUE_SIZE, type CreateMapOptions } from './create.ts';
export { dumpMap, type MapEntry } from './dump.ts';
export { ArrayMap } from './array.ts';
export { PercpuArrayMap } from './percpu-array.ts';
export { HashMap, hashSpare } from './hash.ts';
export { DevMap } from './devmap.ts';
export { PercpuHashMap } from './percpu-hash.ts';
export { LruHashMap } from './lru-hash.ts';
export { DevMapHash } from './devmap-hash.ts';
export { LpmTrieMap } from './lpm-trie.ts';
export { RingBufMap, BPF_RB, BPF_RB_QUERY } from './ringbuf.ts';
export { RingBufConsumer, drainRingBuf, type RingBufSampleFn } from './ringbuf-consumer.ts';
export { ProgArrayMap } from './prog-array.ts';
export { jhash1word, jhash2words, jhash2 } from './jhash.ts';
export { lockAcquire, lockRelease } from './lock.ts';
