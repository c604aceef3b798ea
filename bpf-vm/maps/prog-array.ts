// BPF_MAP_TYPE_PROG_ARRAY (kernel/bpf/arraymap.c, prog_array_map_ops): slots of programs, indexed
// by u32, that bpf_tail_call jumps to. User space fills a slot with a program fd (as libbpf users
// do: bpf_map_update_elem(prog_array, &key, &prog_fd)); every program in the array must be of the
// type of the first one put in (or of the first program that runs a tail call through it), else
// EINVAL, as the kernel's owner type.
//
// Layout: buffers[0] holds, per slot, the fd + 1 (0: empty) as an int32, and after the slots one
// word with the owner's program type + 1 (0: no owner yet). The fds are those of the FdTable of the
// worker that filled the slots: a program cannot cross workers, so each worker that runs tail calls
// binds the table its programs are in (bindPrograms; the ELF loader binds the collection's).
import type { Program } from '../prog/program.ts';
import type { FdTable } from '../prog/fd-table.ts';
import { arrayNextKey } from './array.ts';
import type { BpfMap, MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { E2BIG, EINVAL, ENOENT, allocShared, checkShared, readU32, u32Key } from './mem.ts';
import { ERRNO } from '../errno.ts';

export function progArrayBytes(spec: MapSpec): number {
  return (spec.maxEntries + 1) * 4;
}

export class ProgArrayMap implements BpfMap {
  readonly spec: MapSpec;
  /** Programs may not read a PROG_ARRAY (the verifier allows it only as bpf_tail_call's map): no values. */
  readonly values = new Uint8Array(0);
  private readonly slots: Int32Array;
  private readonly buffer: SharedArrayBuffer;
  private fds: FdTable | undefined;

  static create(spec: MapSpec): ProgArrayMap {
    return new ProgArrayMap(spec, [allocShared(progArrayBytes(spec), `prog array ${spec.name}`)]);
  }

  static open(state: SharedMapState): ProgArrayMap {
    return new ProgArrayMap(state.spec, state.buffers);
  }

  private constructor(spec: MapSpec, buffers: SharedArrayBuffer[]) {
    this.spec = spec;
    this.buffer = checkShared(buffers[0], progArrayBytes(spec), `prog array ${spec.name}`);
    this.slots = new Int32Array(this.buffer, 0, spec.maxEntries + 1);
  }

  /** The fd table this worker resolves the slots' program fds through. */
  bindPrograms(fds: FdTable): void {
    this.fds = fds;
  }

  /** The program type every program of this array has, or undefined before the first. */
  ownerType(): number | undefined {
    const w = Atomics.load(this.slots, this.spec.maxEntries);
    return w === 0 ? undefined : w - 1;
  }

  /**
   * bpf_prog_map_compatible: true if `type` is the owner's, or becomes the owner (first program).
   * The owner stays for the map's life, as in the kernel.
   */
  claimOwner(type: number): boolean {
    const prev = Atomics.compareExchange(this.slots, this.spec.maxEntries, 0, type + 1);
    return prev === 0 || prev === type + 1;
  }

  /** The program in slot `index` (the tail call's target), or undefined for an empty slot. */
  programAt(index: number): Program | undefined {
    if (index >= this.spec.maxEntries) return undefined;
    const fd = Atomics.load(this.slots, index) - 1;
    return fd < 0 ? undefined : this.fds?.getProgram(fd);
  }

  // --- program side: the verifier allows none of these on a PROG_ARRAY ---
  lookupValueOffset(): number {
    return -1;
  }
  updateElem(): number {
    return -ERRNO.EOPNOTSUPP;
  }
  deleteElem(): number {
    return -ERRNO.EOPNOTSUPP;
  }

  // --- user space ---
  /** The slot's program fd (the kernel answers with the program's id; vxo has no ids). */
  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length < 4) return undefined;
    const index = readU32(key, 0);
    if (index >= this.spec.maxEntries) return undefined;
    const fd = Atomics.load(this.slots, index) - 1;
    return fd < 0 ? undefined : u32Key(fd);
  }

  /** bpf_fd_array_map_update_elem: BPF_ANY only; the fd must name a program of the owner type. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (flags !== 0) return EINVAL;
    if (key.length < 4 || value.length < 4) return EINVAL;
    const index = readU32(key, 0);
    if (index >= this.spec.maxEntries) return E2BIG;
    const fd = readU32(value, 0);
    const prog = this.fds?.getProgram(fd);
    if (prog === undefined) return -ERRNO.EBADF;
    if (!this.claimOwner(prog.type)) return EINVAL;
    Atomics.store(this.slots, index, fd + 1);
    return 0;
  }

  delete(key: Uint8Array): number {
    if (key.length < 4) return EINVAL;
    const index = readU32(key, 0);
    if (index >= this.spec.maxEntries) return E2BIG;
    return Atomics.exchange(this.slots, index, 0) === 0 ? ENOENT : 0;
  }

  getNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    return arrayNextKey(key, 4, this.spec.maxEntries);
  }

  share(): SharedMapState {
    return { spec: this.spec, nrCpus: 1, buffers: [this.buffer] };
  }
}

/** fd_array_map_alloc_check with array_map_alloc_check's rules: 4-byte keys and values (fds). */
export function progArrayAllocCheck(spec: MapSpec, fail: (code: 'EINVAL' | 'E2BIG', why: string) => never): void {
  if (spec.maxEntries === 0) fail('EINVAL', 'max_entries must be > 0');
  if (spec.keySize !== 4) fail('EINVAL', `key_size ${spec.keySize}: prog arrays take 4-byte keys`);
  if (spec.valueSize !== 4) fail('EINVAL', `value_size ${spec.valueSize}: prog array values are 4-byte program fds`);
  // BPF_F_NUMA_NODE and the user-side access flags; the program-side ones make no sense here.
  if ((spec.flags & ~(4 | 8 | 16)) !== 0) fail('EINVAL', `map_flags 0x${(spec.flags >>> 0).toString(16)} not supported for this map type`);
  if (spec.maxEntries > 2 ** 24) fail('E2BIG', `max_entries ${spec.maxEntries} > ${2 ** 24}`);
}
