// The maps of bpf-vm: the contract, map creation in shared memory, and the map types.
export * from './map.ts';
export type { SharedMapState } from './shared.ts';
export { createMap, openSharedMap, DEFAULT_NR_CPUS, DEFAULT_MAX_BYTES, MAX_VALUE_SIZE, type CreateMapOptions } from './create.ts';
export { dumpMap, type MapEntry } from './dump.ts';
export { ArrayMap } from './array.ts';
export { PercpuArrayMap } from './percpu-array.ts';
export { HashMap, hashSpare } from './hash.ts';
export { DevMap } from './devmap.ts';
export { jhash1word, jhash2words, jhash2 } from './jhash.ts';
export { lockAcquire, lockRelease } from './lock.ts';
