// BPF_MAP_TYPE_ARRAY (kernel/bpf/arraymap.c): max_entries preallocated, zeroed slots addressed by
// a u32 index. Every slot always exists, so there is nothing to link or lock: a lookup is a bounds
// check and a multiply, and updates copy the value in place (a concurrent reader may see a value
// half-copied, exactly as with the kernel's memcpy; programs that need atomicity use atomic
// instructions on the value, which work here through Int32Array/BigInt64Array views of `values`).
//
// Layout: buffers[0] holds the values, slot i at i * round_up(value_size, 8).
import { BPF_UPDATE, type BpfMap, type MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import {
  BPF_F_LOCK, E2BIG, EEXIST, EFAULT, EINVAL, allocShared, checkShared, copyBytes, readU32, roundUp8, u32Key,
  unknownUpdateFlags,
} from './mem.ts';

const { BPF_NOEXIST } = BPF_UPDATE;

export function arrayValuesBytes(spec: MapSpec): number {
  return spec.maxEntries * roundUp8(spec.valueSize);
}

/**
 * The checks array_map_update_elem makes before it copies: unknown flags, an index past the end
 * (every element is preallocated, none can be added), NOEXIST (every element exists), and
 * BPF_F_LOCK on a value without a bpf_spin_lock. 0 when the update may proceed.
 */
export function arrayUpdateCheck(index: number, maxEntries: number, flags: number): number {
  if (unknownUpdateFlags(flags)) return EINVAL;
  if (index >= maxEntries) return E2BIG;
  if (flags & BPF_NOEXIST) return EEXIST;
  if (flags & BPF_F_LOCK) return EINVAL;
  return 0;
}

/** The kernel's array get_next_key, shared by every index-addressed map (arrays, devmap). */
export function arrayNextKey(key: Uint8Array | undefined, keySize: number, maxEntries: number): Uint8Array | undefined {
  // No key, a short key and an out-of-range index all start over at 0, as U32_MAX does in the kernel.
  const index = key !== undefined && key.length >= keySize ? readU32(key, 0) : 0xffffffff;
  if (index >= maxEntries) return u32Key(0);
  if (index === maxEntries - 1) return undefined;
  return u32Key(index + 1);
}

export class ArrayMap implements BpfMap {
  readonly spec: MapSpec;
  readonly values: Uint8Array;
  private readonly maxEntries: number;
  private readonly valueSize: number;
  private readonly elemSize: number;
  private readonly nrCpus: number;

  /** Allocates zeroed slots and writes the global-data image, if any, into slot 0. */
  static create(spec: MapSpec, nrCpus: number): ArrayMap {
    const map = new ArrayMap(spec, nrCpus, [allocShared(arrayValuesBytes(spec), `array map ${spec.name}`)]);
    if (spec.initialValue !== undefined) map.values.set(spec.initialValue, 0);
    return map;
  }

  /** Reopens a map another worker created: same buffers, no copy, no initialisation. */
  static open(state: SharedMapState): ArrayMap {
    return new ArrayMap(state.spec, state.nrCpus, state.buffers);
  }

  private constructor(spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) {
    this.spec = spec;
    this.nrCpus = nrCpus;
    this.maxEntries = spec.maxEntries;
    this.valueSize = spec.valueSize;
    this.elemSize = roundUp8(spec.valueSize);
    const bytes = arrayValuesBytes(spec);
    this.values = new Uint8Array(checkShared(buffers[0], bytes, `array map ${spec.name}`), 0, bytes);
  }

  lookupValueOffset(key: Uint8Array, keyOff: number, _cpu: number): number {
    if (keyOff + 4 > key.length) return -1;
    const index = readU32(key, keyOff);
    return index < this.maxEntries ? index * this.elemSize : -1;
  }

  updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, _cpu: number): number {
    if (keyOff + 4 > key.length || valueOff + this.valueSize > value.length) return EFAULT;
    const index = readU32(key, keyOff);
    const err = arrayUpdateCheck(index, this.maxEntries, flags);
    if (err !== 0) return err;
    copyBytes(this.values, index * this.elemSize, value, valueOff, this.valueSize);
    return 0;
  }

  /** Array elements cannot be deleted: they all exist for the map's whole life. */
  deleteElem(_key: Uint8Array, _keyOff: number): number {
    return EINVAL;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    const off = this.lookupValueOffset(key, 0, 0);
    return off < 0 ? undefined : this.values.slice(off, off + this.valueSize);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    return this.updateElem(key, 0, value, 0, flags, 0);
  }

  delete(_key: Uint8Array): number {
    return EINVAL;
  }

  getNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    return arrayNextKey(key, 4, this.maxEntries);
  }

  share(): SharedMapState {
    return { spec: this.spec, nrCpus: this.nrCpus, buffers: [this.values.buffer as SharedArrayBuffer] };
  }
}
