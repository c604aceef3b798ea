// BPF_MAP_TYPE_DEVMAP (kernel/bpf/devmap.c): an array of redirect targets indexed by u32, each a
// struct bpf_devmap_val: u32 ifindex, then (value_size 8) the fd of a program to run on the
// target device. A slot whose ifindex is 0 holds no device: lookups miss, and updating with
// ifindex 0 clears the slot, as delete does.
//
// Layout: buffers[0] holds the values, slot i at i * 8 whatever the value size, so each slot is
// one aligned 64-bit word. The kernel swaps a whole entry with one xchg() so that the datapath never
// sees half an entry; here an update is likewise one 64-bit Atomics.store (user space only, where
// BigInt is affordable), and there is nothing else to serialise. The ifindex and prog fd are kept
// as given: resolving them to devices and programs is the caller's business (the kernel would also
// replace the fd by the program id on lookup).
import { BPF_UPDATE, type BpfMap, type MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { arrayNextKey } from './array.ts';
import { E2BIG, EEXIST, EFAULT, EINVAL, allocShared, checkShared, readU32 } from './mem.ts';

const { BPF_NOEXIST, BPF_EXIST } = BPF_UPDATE;
const SLOT = 8;

export function devmapValuesBytes(spec: MapSpec): number {
  return spec.maxEntries * SLOT;
}

export class DevMap implements BpfMap {
  readonly spec: MapSpec;
  readonly values: Uint8Array;
  private readonly words: Int32Array;
  private readonly slots: BigInt64Array;
  private readonly maxEntries: number;
  private readonly valueSize: number;
  private readonly nrCpus: number;

  static create(spec: MapSpec, nrCpus: number): DevMap {
    return new DevMap(spec, nrCpus, [allocShared(devmapValuesBytes(spec), `devmap ${spec.name}`)]);
  }

  static open(state: SharedMapState): DevMap {
    return new DevMap(state.spec, state.nrCpus, state.buffers);
  }

  private constructor(spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) {
    this.spec = spec;
    this.nrCpus = nrCpus;
    this.maxEntries = spec.maxEntries;
    this.valueSize = spec.valueSize;
    const bytes = devmapValuesBytes(spec);
    const buf = checkShared(buffers[0], bytes, `devmap ${spec.name}`);
    this.values = new Uint8Array(buf, 0, bytes);
    this.words = new Int32Array(buf, 0, bytes / 4);
    this.slots = new BigInt64Array(buf, 0, bytes / 8);
  }

  /** The slot's offset when it holds a device (ifindex != 0), else -1. */
  lookupValueOffset(key: Uint8Array, keyOff: number, _cpu: number): number {
    if (keyOff + 4 > key.length) return -1;
    const index = readU32(key, keyOff);
    if (index >= this.maxEntries) return -1;
    // One tear-free read of the ifindex (see ifindexAt): the slot is written by one 64-bit store,
    // so a present ifindex comes with the rest of its entry.
    return this.words[index * 2] === 0 ? -1 : index * SLOT;
  }

  /**
   * The device in slot `index` as the datapath reads it: its ifindex, 0 for an empty slot or an
   * index past the end. One aligned Int32Array read, which is tear-free (ECMAScript's [[NoTear]]
   * for integer typed arrays): the kernel's READ_ONCE of the entry, no atomic instruction.
   */
  ifindexAt(index: number): number {
    return index < this.maxEntries ? this.words[index * 2]! >>> 0 : 0;
  }

  /** __dev_map_update_elem's checks, then one 64-bit store of the whole entry. */
  updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, _cpu: number): number {
    if (keyOff + 4 > key.length || valueOff + this.valueSize > value.length) return EFAULT;
    const index = readU32(key, keyOff);
    if (flags !== flags >>> 0 || flags > BPF_EXIST) return EINVAL;
    if (index >= this.maxEntries) return E2BIG;
    if (flags === BPF_NOEXIST) return EEXIST;
    const ifindex = readU32(value, valueOff);
    const progFd = this.valueSize === 8 ? readU32(value, valueOff + 4) | 0 : 0;
    // A program fd without a device is meaningless: the kernel refuses it.
    if (ifindex === 0 && progFd > 0) return EINVAL;
    const entry = ifindex === 0 ? 0n : BigInt(ifindex) | (BigInt(progFd >>> 0) << 32n);
    Atomics.store(this.slots, index, BigInt.asIntN(64, entry));
    return 0;
  }

  /** Clears the slot; deleting an empty slot succeeds, an index past the end is EINVAL. */
  deleteElem(key: Uint8Array, keyOff: number): number {
    if (keyOff + 4 > key.length) return EFAULT;
    const index = readU32(key, keyOff);
    if (index >= this.maxEntries) return EINVAL;
    Atomics.store(this.slots, index, 0n);
    return 0;
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < 4) return undefined;
    const index = readU32(key, 0);
    if (index >= this.maxEntries) return undefined;
    // Read the entry in one atomic load, then lay it out little-endian like the slot itself.
    const entry = Atomics.load(this.slots, index);
    if ((entry & 0xffffffffn) === 0n) return undefined;
    const out = new Uint8Array(this.valueSize);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    view.setUint32(0, Number(entry & 0xffffffffn), true);
    if (this.valueSize === 8) view.setUint32(4, Number((entry >> 32n) & 0xffffffffn), true);
    return out;
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    return this.updateElem(key, 0, value, 0, flags, 0);
  }

  delete(key: Uint8Array): number {
    return this.deleteElem(key, 0);
  }

  /** dev_map_get_next_key walks indices and does not skip empty slots. */
  getNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    return arrayNextKey(key, 4, this.maxEntries);
  }

  share(): SharedMapState {
    return { spec: this.spec, nrCpus: this.nrCpus, buffers: [this.values.buffer as SharedArrayBuffer] };
  }
}
