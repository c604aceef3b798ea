// BPF_MAP_TYPE_LRU_HASH and BPF_MAP_TYPE_LRU_PERCPU_HASH (kernel/bpf/hashtab.c htab_lru_*, and
// kernel/bpf/bpf_lru_list.c): the hash table of hash.ts that, when full, makes room for a new key
// by evicting the least recently used element, so an update never fails with E2BIG.
//
// Recency. Every element in the map is on one list (buffers[2]), most recent at the head; a new
// element enters at the head. Lookups stay lock-free: like the kernel's bpf_lru_node_set_ref, a
// program's lookup only sets the element's reference bit (a plain store, skipped when already set),
// and the list is reordered by writers, under the map's lock. To make room, the writer walks from
// the tail: a referenced element gets a second chance (its bit is cleared and it moves to the
// head), the first unreferenced one is evicted. A replaced element's successor starts referenced,
// as in htab_lru_map_update_elem. User-space lookups do not mark (htab_lru_map_lookup_elem_sys).
//
// Where it differs from the kernel, deliberately simpler:
//   - The kernel keeps active and inactive lists and per-CPU local free lists (bpf_lru_list.c);
//     when a CPU's local free list is empty it refills it in batches (LOCAL_FREE_TARGET, 128 nodes;
//     PERCPU_FREE_TARGET, 4, with BPF_F_NO_COMMON_LRU), evicting up to that many unreferenced
//     nodes at once. So in the kernel a full map can lose several entries to one insertion, and
//     an update of an existing key in a full map can evict another key (a new node is popped before
//     the old one is found). Here an insertion into a full map evicts exactly one element, and
//     replacing an existing key never evicts: the order is the approximate-LRU above, exact when
//     nothing is looked up between updates.
//   - BPF_F_NO_COMMON_LRU (per-CPU LRU lists) is accepted and behaves as the common list; the
//     kernel also rounds max_entries to a multiple of the CPU count for it, vxo does not.
//   - LRU_PERCPU_HASH values are per CPU as in percpu-hash.ts; an update of an existing key writes
//     in place and marks the element referenced (htab_lru_percpu_map_update_elem).
import { HashMap, hashGeometry } from './hash.ts';
import type { MapSpec } from './map.ts';
import { BPF_MAP_TYPE } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { BpfError } from '../errors.ts';
import { allocShared, checkShared, roundUp8 } from './mem.ts';
import { percpuWrite } from './percpu-hash.ts';

const L_HEAD = 0;
const L_TAIL = 1;
const L_MAGIC = 2;
const L_HEADER = 4;
const LRU_MAGIC = 0x6c727531; // 'lru1'
const NONE = -1;

/** Words of the recency list: header, then prev, next and ref per element. */
export function lruListWords(spec: MapSpec, nrCpus: number): number {
  return L_HEADER + 3 * hashGeometry(spec, nrCpus).nElems;
}

export class LruHashMap extends HashMap {
  private readonly lru: Int32Array;
  private readonly percpu: boolean;
  private readonly prevBase: number;
  private readonly nextLruBase: number;
  private readonly refBase: number;

  static override create(spec: MapSpec, nrCpus: number): LruHashMap {
    const words = lruListWords(spec, nrCpus);
    const buf = allocShared(words * 4, `lru hash map ${spec.name} list`);
    const l = new Int32Array(buf, 0, words);
    l[L_HEAD] = NONE;
    l[L_TAIL] = NONE;
    Atomics.store(l, L_MAGIC, LRU_MAGIC);
    return HashMap.createAs(spec, nrCpus, (s, n, b) => new LruHashMap(s, n, [...b, buf]));
  }

  static override open(state: SharedMapState): LruHashMap {
    return new LruHashMap(state.spec, state.nrCpus, state.buffers);
  }

  protected constructor(spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) {
    super(spec, nrCpus, buffers);
    const words = lruListWords(spec, nrCpus);
    this.lru = new Int32Array(checkShared(buffers[2], words * 4, `lru hash map ${spec.name}`), 0, words);
    if (Atomics.load(this.lru, L_MAGIC) !== LRU_MAGIC) {
      throw new BpfError('EINVAL', `lru hash map ${spec.name}: shared state has no LRU list`);
    }
    this.percpu = spec.type === BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.prevBase = L_HEADER;
    this.nextLruBase = L_HEADER + this.nElems;
    this.refBase = L_HEADER + 2 * this.nElems;
  }

  // --- program side ---

  /** The value's offset without marking the element referenced (bpf_for_each_map_elem's walk). */
  peekValueOffset(key: Uint8Array, cpu: number): number {
    if (this.percpu && cpu >>> 0 >= this.nrCpus) return -1;
    const off = super.lookupValueOffset(key, 0, cpu);
    if (off < 0) return -1;
    return this.percpu ? off + cpu * roundUp8(this.valueSize) : off;
  }

  override lookupValueOffset(key: Uint8Array, keyOff: number, cpu: number): number {
    if (this.percpu && cpu >>> 0 >= this.nrCpus) return -1;
    const off = super.lookupValueOffset(key, keyOff, cpu);
    if (off < 0) return -1;
    const slot = this.refBase + off / this.elemSize;
    // bpf_lru_node_set_ref: a plain store, and none when the bit is already set.
    if (this.lru[slot] === 0) this.lru[slot] = 1;
    return this.percpu ? off + cpu * roundUp8(this.valueSize) : off;
  }

  override updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, cpu: number): number {
    if (this.percpu && cpu >>> 0 >= this.nrCpus) return -22;
    return super.updateElem(key, keyOff, value, valueOff, flags, cpu);
  }

  // --- hash.ts hooks ---

  protected override userValueSize(): number {
    return this.percpu ? this.elemSize : this.valueSize;
  }

  protected override writeNewValue(e: number, value: Uint8Array, valueOff: number, cpu: number, fromUser: boolean): void {
    if (!this.percpu) {
      super.writeNewValue(e, value, valueOff, cpu, fromUser);
      return;
    }
    percpuWrite(this.values, e * this.elemSize, this.valueSize, this.nrCpus, value, valueOff, cpu, fromUser, true);
  }

  protected override updateInPlace(e: number, value: Uint8Array, valueOff: number, cpu: number, fromUser: boolean): boolean {
    if (!this.percpu) return false;
    percpuWrite(this.values, e * this.elemSize, this.valueSize, this.nrCpus, value, valueOff, cpu, fromUser, false);
    this.lru[this.refBase + e] = 1;
    return true;
  }

  protected override linked(e: number, replaced: boolean): void {
    this.lru[this.refBase + e] = replaced ? 1 : 0;
    this.pushHead(e);
  }

  protected override unlinked(e: number): void {
    this.listRemove(e);
  }

  /** Second chance from the tail: the first unreferenced element goes. */
  protected override evictForInsert(): boolean {
    const l = this.lru;
    // Each referenced element is rotated at most once before its bit is clear, so this ends.
    for (let steps = 0; steps <= 2 * this.nElems; steps++) {
      const e = l[L_TAIL]!;
      if (e === NONE) return false;
      if (l[this.refBase + e] !== 0) {
        l[this.refBase + e] = 0;
        this.listRemove(e);
        this.pushHead(e);
        continue;
      }
      this.removeLocked(e);
      return true;
    }
    return false;
  }

  // --- the recency list (lock held) ---

  private pushHead(e: number): void {
    const l = this.lru;
    const head = l[L_HEAD]!;
    l[this.prevBase + e] = NONE;
    l[this.nextLruBase + e] = head;
    if (head !== NONE) l[this.prevBase + head] = e;
    else l[L_TAIL] = e;
    l[L_HEAD] = e;
  }

  private listRemove(e: number): void {
    const l = this.lru;
    const p = l[this.prevBase + e]!;
    const n = l[this.nextLruBase + e]!;
    if (p !== NONE) l[this.nextLruBase + p] = n;
    else l[L_HEAD] = n;
    if (n !== NONE) l[this.prevBase + n] = p;
    else l[L_TAIL] = p;
    l[this.prevBase + e] = NONE;
    l[this.nextLruBase + e] = NONE;
  }

  /** Keys from most to least recently inserted or rotated (tests and debugging; takes the lock). */
  recencyOrder(): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.withLock(() => {
      for (let e = this.lru[L_HEAD]!, n = 0; e !== NONE && n <= this.nElems; e = this.lru[this.nextLruBase + e]!, n++) {
        out.push(this.elemKey(e));
      }
    });
    return out;
  }

  override share(): SharedMapState {
    const s = super.share();
    return { ...s, buffers: [...s.buffers, this.lru.buffer as SharedArrayBuffer] };
  }
}
