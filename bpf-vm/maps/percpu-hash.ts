// BPF_MAP_TYPE_PERCPU_HASH (kernel/bpf/hashtab.c, htab_percpu_*): the hash table of hash.ts whose
// elements carry one value per CPU. A "CPU" is a worker's number, 0..nrCpus-1, as for PERCPU_ARRAY.
//
// An element's slot in `values` holds every CPU's copy, CPU c at c * round_up(value_size, 8): the
// layout BPF_MAP_LOOKUP_ELEM returns and BPF_MAP_UPDATE_ELEM takes from user space. As in the
// kernel:
//   - a program's lookup returns its own CPU's copy (this_cpu_ptr);
//   - a program's update of a new key writes its CPU's copy and zeroes the others (pcpu_init_value
//     for preallocated maps); of an existing key, writes its CPU's copy in place, without
//     replacing the element (pcpu_copy_value), so other CPUs' copies survive;
//   - a user-space update writes every CPU's copy, in place for an existing key.
// Keys, buckets, the writer lock and lock-free lookups are hash.ts's.
import { HashMap } from './hash.ts';
import type { SharedMapState } from './shared.ts';
import type { MapSpec } from './map.ts';
import { copyBytes, roundUp8 } from './mem.ts';

/** Writes a per-CPU value into the slot at `slotOff`: every CPU's copy from user space, else `cpu`'s. */
export function percpuWrite(
  values: Uint8Array, slotOff: number, valueSize: number, nrCpus: number,
  value: Uint8Array, valueOff: number, cpu: number, fromUser: boolean, zeroOthers: boolean,
): void {
  const unit = roundUp8(valueSize);
  if (fromUser) {
    copyBytes(values, slotOff, value, valueOff, unit * nrCpus);
    return;
  }
  if (zeroOthers) values.fill(0, slotOff, slotOff + unit * nrCpus);
  copyBytes(values, slotOff + cpu * unit, value, valueOff, valueSize);
}

export class PercpuHashMap extends HashMap {
  static override create(spec: MapSpec, nrCpus: number): PercpuHashMap {
    return HashMap.createAs(spec, nrCpus, (s, n, b) => new PercpuHashMap(s, n, b));
  }

  static override open(state: SharedMapState): PercpuHashMap {
    return new PercpuHashMap(state.spec, state.nrCpus, state.buffers);
  }

  /** `cpu`'s copy of the element; a CPU number outside 0..nrCpus-1 finds nothing. */
  override lookupValueOffset(key: Uint8Array, keyOff: number, cpu: number): number {
    if (cpu >>> 0 >= this.nrCpus) return -1;
    const off = super.lookupValueOffset(key, keyOff, cpu);
    return off < 0 ? -1 : off + cpu * roundUp8(this.valueSize);
  }

  override updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, cpu: number): number {
    if (cpu >>> 0 >= this.nrCpus) return -22;
    return super.updateElem(key, keyOff, value, valueOff, flags, cpu);
  }

  protected override userValueSize(): number {
    return this.elemSize;
  }

  protected override writeNewValue(e: number, value: Uint8Array, valueOff: number, cpu: number, fromUser: boolean): void {
    percpuWrite(this.values, e * this.elemSize, this.valueSize, this.nrCpus, value, valueOff, cpu, fromUser, true);
  }

  protected override updateInPlace(e: number, value: Uint8Array, valueOff: number, cpu: number, fromUser: boolean): boolean {
    percpuWrite(this.values, e * this.elemSize, this.valueSize, this.nrCpus, value, valueOff, cpu, fromUser, false);
    return true;
  }
}
