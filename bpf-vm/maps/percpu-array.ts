// BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): an array with one copy of each value per CPU.
// Here a "CPU" is a worker's number, 0..nrCpus-1, passed by the program-side calls: each worker
// running programs uses its own copy, so counters need no atomics, as in the kernel.
//
// Layout: buffers[0] holds the values index-major: element i, CPU c at
// (i * nrCpus + c) * round_up(value_size, 8), so the user-space view of one element (every CPU's
// copy, each rounded up to 8 bytes, the layout the bpf() syscall uses) is one contiguous range.
import { BPF_UPDATE, type BpfMap, type MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { arrayNextKey, arrayUpdateCheck } from './array.ts';
import { E2BIG, EEXIST, EFAULT, EINVAL, allocShared, checkShared, copyBytes, readU32, roundUp8 } from './mem.ts';

const { BPF_NOEXIST, BPF_EXIST } = BPF_UPDATE;

export function percpuArrayValuesBytes(spec: MapSpec, nrCpus: number): number {
  return spec.maxEntries * nrCpus * roundUp8(spec.valueSize);
}

export class PercpuArrayMap implements BpfMap {
  readonly spec: MapSpec;
  readonly values: Uint8Array;
  private readonly maxEntries: number;
  private readonly valueSize: number;
  private readonly elemSize: number;
  private readonly nrCpus: number;
  /** Bytes of one element across all CPUs: the user-space value size. */
  private readonly rowSize: number;

  static create(spec: MapSpec, nrCpus: number): PercpuArrayMap {
    return new PercpuArrayMap(spec, nrCpus, [allocShared(percpuArrayValuesBytes(spec, nrCpus), `percpu array map ${spec.name}`)]);
  }

  static open(state: SharedMapState): PercpuArrayMap {
    return new PercpuArrayMap(state.spec, state.nrCpus, state.buffers);
  }

  private constructor(spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) {
    this.spec = spec;
    this.nrCpus = nrCpus;
    this.maxEntries = spec.maxEntries;
    this.valueSize = spec.valueSize;
    this.elemSize = roundUp8(spec.valueSize);
    this.rowSize = this.elemSize * nrCpus;
    const bytes = percpuArrayValuesBytes(spec, nrCpus);
    this.values = new Uint8Array(checkShared(buffers[0], bytes, `percpu array map ${spec.name}`), 0, bytes);
  }

  /** `cpu`'s copy of the element; a CPU number outside 0..nrCpus-1 finds nothing. */
  lookupValueOffset(key: Uint8Array, keyOff: number, cpu: number): number {
    if (keyOff + 4 > key.length) return -1;
    const index = readU32(key, keyOff);
    if (index >= this.maxEntries || cpu >>> 0 >= this.nrCpus) return -1;
    return index * this.rowSize + cpu * this.elemSize;
  }

  /** A program updates its own CPU's copy (value_size bytes), as this_cpu_ptr does in the kernel. */
  updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, cpu: number): number {
    if (keyOff + 4 > key.length || valueOff + this.valueSize > value.length) return EFAULT;
    const index = readU32(key, keyOff);
    const err = arrayUpdateCheck(index, this.maxEntries, flags);
    if (err !== 0) return err;
    if (cpu >>> 0 >= this.nrCpus) return EINVAL;
    copyBytes(this.values, index * this.rowSize + cpu * this.elemSize, value, valueOff, this.valueSize);
    return 0;
  }

  deleteElem(_key: Uint8Array, _keyOff: number): number {
    return EINVAL;
  }

  /** Every CPU's copy, each round_up(value_size, 8) bytes (bpf_percpu_array_copy). */
  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < 4) return undefined;
    const index = readU32(key, 0);
    if (index >= this.maxEntries) return undefined;
    const off = index * this.rowSize;
    return this.values.slice(off, off + this.rowSize);
  }

  /**
   * Takes every CPU's value, each rounded up to 8 bytes, and copies the rounded size per CPU
   * (bpf_percpu_array_update). Its flag check is stricter than the program side's: BPF_F_LOCK is
   * simply unknown here.
   */
  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (key.length < 4 || value.length < this.rowSize) return EFAULT;
    if (flags !== flags >>> 0 || flags > BPF_EXIST) return EINVAL;
    const index = readU32(key, 0);
    if (index >= this.maxEntries) return E2BIG;
    if (flags === BPF_NOEXIST) return EEXIST;
    copyBytes(this.values, index * this.rowSize, value, 0, this.rowSize);
    return 0;
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
