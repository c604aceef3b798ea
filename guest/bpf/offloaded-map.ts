// struct bpf_offloaded_map as bpf-vm sees it: a BpfMap with the map's spec (all the verifier
// needs) and no storage here. User-space operations go to the device through the ops it set at
// BPF_OFFLOAD_MAP_ALLOC; program-side operations do not exist, because an offloaded program never
// runs in the guest.
import { BpfError, ERRNO, type BpfMap, type MapSpec, type SharedMapState } from '../../bpf-vm/index.ts';
import { GuestBpfError } from './errors.ts';
import type { BpfMapDevOps } from './netdev.ts';
import type { GuestMap } from './objects.ts';

export class OffloadedMap implements BpfMap {
  readonly values = new Uint8Array(0);
  /** The guest object whose devOps this proxy uses (set once the object exists). */
  owner: GuestMap | undefined;

  constructor(readonly spec: MapSpec) {}

  private ops(): { ops: BpfMapDevOps; m: GuestMap } {
    const m = this.owner;
    if (m?.devOps === undefined) throw new GuestBpfError('EOPNOTSUPP', `map ${this.spec.name}: not allocated on a device`);
    return { ops: m.devOps, m };
  }

  lookupValueOffset(): number { return -1; }
  updateElem(): number { return -ERRNO.EOPNOTSUPP; }
  deleteElem(): number { return -ERRNO.EOPNOTSUPP; }

  lookup(key: Uint8Array): Uint8Array | undefined {
    const { ops, m } = this.ops();
    try {
      return ops.lookup(m, key);
    } catch (e) {
      if (e instanceof GuestBpfError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    const { ops, m } = this.ops();
    try {
      ops.update(m, key, value, flags);
      return 0;
    } catch (e) {
      if (e instanceof GuestBpfError) return -e.errno;
      throw e;
    }
  }

  delete(key: Uint8Array): number {
    const { ops, m } = this.ops();
    try {
      ops.delete(m, key);
      return 0;
    } catch (e) {
      if (e instanceof GuestBpfError) return -e.errno;
      throw e;
    }
  }

  getNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const { ops, m } = this.ops();
    try {
      return ops.getNextKey(m, key);
    } catch (e) {
      if (e instanceof GuestBpfError && e.code === 'ENOENT') return undefined;
      throw e;
    }
  }

  share(): SharedMapState {
    throw new BpfError('EOPNOTSUPP', `map ${this.spec.name} is offloaded: its memory is on the device`);
  }
}
