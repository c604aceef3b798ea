// BPF_MAP_TYPE_DEVMAP_HASH (kernel/bpf/devmap.c, dev_map_hash_*): redirect targets keyed by any u32
// (an ifindex, typically) instead of a dense index. Values are struct bpf_devmap_val as in DEVMAP:
// u32 ifindex, then (value_size 8) the fd of a program to run on the target device. The table is
// hash.ts's (lock-free lookups for bpf_redirect_map, writers under the lock, an update replaces
// the element whole, so the datapath never sees half an entry).
//
// __dev_map_hash_update_elem's rules, which differ from HASH's: flags past BPF_EXIST and an
// ifindex of 0 are EINVAL; BPF_NOEXIST on a present key is EEXIST; BPF_EXIST on a missing key
// inserts it (the kernel does not check it); a new key in a full map is E2BIG. Deleting a missing
// key is ENOENT. Programs may only look entries up and redirect through them (the verifier marks
// device maps read-only for programs). As with DEVMAP, the ifindex and prog fd are kept as given:
// the kernel resolves them at update (EINVAL for a device or program that does not exist), vxo
// resolves the device when the frame is delivered.
//
// Difference from the kernel: get_next_key walks vxo's jhash buckets; the kernel's buckets are
// `key & (n_buckets - 1)`, so the two iterate the same keys in different orders.
import { HashMap } from './hash.ts';
import { BPF_UPDATE, type MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { EFAULT, EINVAL, readU32 } from './mem.ts';

const { BPF_ANY, BPF_EXIST } = BPF_UPDATE;

export class DevMapHash extends HashMap {
  static override create(spec: MapSpec, nrCpus: number): DevMapHash {
    return HashMap.createAs(spec, nrCpus, (s, n, b) => new DevMapHash(s, n, b));
  }

  static override open(state: SharedMapState): DevMapHash {
    return new DevMapHash(state.spec, state.nrCpus, state.buffers);
  }

  /** 0 when the update may go to the hash table with `flags` mapped by hashFlags, else the errno. */
  private check(value: Uint8Array, valueOff: number, flags: number): number {
    if (flags !== flags >>> 0 || flags > BPF_EXIST) return EINVAL;
    if (readU32(value, valueOff) === 0) return EINVAL;
    return 0;
  }

  override updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags: number, cpu: number): number {
    if (keyOff + 4 > key.length || valueOff + this.valueSize > value.length) return EFAULT;
    const err = this.check(value, valueOff, flags);
    if (err !== 0) return err;
    return super.updateElem(key, keyOff, value, valueOff, flags === BPF_EXIST ? BPF_ANY : flags, cpu);
  }

  override update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    if (key.length < 4 || value.length < this.valueSize) return EFAULT;
    const err = this.check(value, 0, flags);
    if (err !== 0) return err;
    return super.update(key, value, flags === BPF_EXIST ? BPF_ANY : flags);
  }
}
