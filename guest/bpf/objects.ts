// The guest kernel's map and program objects (struct bpf_map / bpf_offloaded_map, struct
// bpf_prog with its aux->offload). Reference counted as the kernel does: fds and programs hold
// maps, fds and attachments hold programs; the last reference frees (an offloaded map then sends
// MAP FREE through its device).
import { BpfError, FdTable, type BpfMap, type MapSpec, type Program } from '../../bpf-vm/index.ts';
import type { VerifyResult } from '../../bpf-vm/verifier/index.ts';
import type { BpfMapDevOps, BpfNetdev, ProgLoadState } from './netdev.ts';

export interface GuestMap {
  readonly id: number;
  readonly spec: MapSpec;
  /** A bpf-vm map for a local map; an OffloadedMap (no storage here) for an offloaded one. */
  readonly map: BpfMap;
  /** The device it is offloaded to (map_ifindex), or undefined for a local map. */
  readonly offloadDev: BpfNetdev | undefined;
  /** Set by the device at BPF_OFFLOAD_MAP_ALLOC. */
  devOps: BpfMapDevOps | undefined;
  devPriv: unknown;
  refs: number;
}

export interface GuestProg extends ProgLoadState {
  readonly id: number;
  /** bpf-vm's program: maps resolved through a snapshot of the fds taken at load. */
  readonly program: Program;
  readonly verified: VerifyResult;
  readonly maps: readonly GuestMap[];
  /** What the device's setup() hook returned. */
  readonly devPriv: unknown;
  refs: number;
}

/**
 * The fd -> map bindings of a program at load time: the kernel swaps fds for map pointers then,
 * so closing a map fd later does not change what the program uses. Extends FdTable so bpf-vm's
 * verifier and engines resolve the program's own fd numbers.
 */
export class FdSnapshot extends FdTable {
  private readonly snap: ReadonlyMap<number, BpfMap>;
  constructor(snap: ReadonlyMap<number, BpfMap>) {
    super();
    this.snap = snap;
  }
  override get(fd: number): BpfMap | undefined {
    return this.snap.get(fd);
  }
  override mustGet(fd: number): BpfMap {
    const m = this.snap.get(fd);
    return m ?? super.mustGet(fd);
  }
  override entries(): IterableIterator<[number, BpfMap]> {
    return this.snap.entries();
  }
  override add(): number {
    throw new BpfError('EINVAL', 'a program\'s fd snapshot is fixed at load');
  }
  override close(): boolean {
    return false;
  }
}
