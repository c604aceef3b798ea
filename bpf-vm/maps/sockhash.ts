// BPF_MAP_TYPE_SOCKHASH (net/core/sock_map.c, struct bpf_shtab): sockets under keys of any size,
// each entry holding the socket's cookie. The table is hash.ts's (lock-free lookups, writers under
// the map's lock, an update links a new element at the head of its bucket and then unlinks the
// old one), which is also the kernel's shape: sock_hash_bucket_hash is jhash(key, key_size, 0),
// buckets roundup_pow_of_two(max_entries), new elements at the head of the chain, so
// get_next_key visits keys in the kernel's order.
//
// The kernel's rules: a new key in a full map is E2BIG (sock_hash_alloc_elem; replacing a present
// key is not refused), flags past BPF_EXIST are EINVAL, BPF_NOEXIST/BPF_EXIST as for any hash,
// delete of a missing key ENOENT; a user-space lookup returns the cookie for 8-byte values and
// ENOSPC for 4-byte ones. The value slot is 8 bytes whatever value_size (the cookie is a u64).
import { HashMap } from './hash.ts';
import type { MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { ERRNO } from '../errno.ts';
import { EFAULT, EINVAL, ENOENT } from './mem.ts';
import { sockMapBadFlags, sockMapFdUpdate, type SockMapOps } from './sock-map-ops.ts';

const ENOSPC = -ERRNO.ENOSPC;

export class SockHash extends HashMap implements SockMapOps {
  /** The cookie being written, as the bytes updateCommon copies (one per map object: one call at a time per worker). */
  private readonly cookieBuf = new Uint8Array(8);
  private readonly cookieView = new DataView(this.cookieBuf.buffer);
  private readonly valuesView: DataView;

  static override create(spec: MapSpec, nrCpus: number): SockHash {
    return HashMap.createAs(spec, nrCpus, (s, n, b) => new SockHash(s, n, b));
  }

  static override open(state: SharedMapState): SockHash {
    return new SockHash(state.spec, state.nrCpus, state.buffers);
  }

  protected constructor(spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) {
    super(spec, nrCpus, buffers);
    this.valuesView = new DataView(this.values.buffer, this.values.byteOffset, this.values.byteLength);
  }

  /** The element's value is the u64 cookie, for 4-byte maps too. */
  protected override userValueSize(): number {
    return 8;
  }

  private cookieAt(off: number): bigint {
    const lo = this.valuesView.getUint32(off, true);
    const hi = this.valuesView.getUint32(off + 4, true);
    return BigInt(hi * 0x100000000 + lo);
  }

  // --- cookie level (SockMapOps) ---

  lookupCookie(key: Uint8Array, keyOff: number): bigint {
    const off = super.lookupValueOffset(key, keyOff, 0);
    return off < 0 ? 0n : this.cookieAt(off);
  }

  /** sock_hash_update_common past the socket checks. */
  updateCookie(key: Uint8Array, keyOff: number, cookie: bigint, flags: number): number {
    if (keyOff + this.keySize > key.length) return EFAULT;
    if (sockMapBadFlags(flags)) return EINVAL;
    this.cookieView.setBigUint64(0, BigInt.asUintN(64, cookie), true);
    return this.updateCommon(key, keyOff, this.cookieBuf, 0, flags, 0, true);
  }

  deleteCookie(key: Uint8Array, keyOff: number, cookie: bigint): boolean {
    return this.deleteWhere(key, keyOff, (e) => this.cookieAt(e * this.elemSize) === cookie) === 0;
  }

  lookupSys(key: Uint8Array): Uint8Array | number {
    if (this.valueSize !== 8) return ENOSPC;
    return super.lookup(key) ?? ENOENT;
  }

  // --- program side ---

  /** Programs get sockets, not values, from a sockhash (helpers/map-helpers.ts). */
  override lookupValueOffset(_key: Uint8Array, _keyOff: number, _cpu: number): number {
    return -1;
  }

  /** An update from a program passes a socket (map-helpers.ts): value bytes are no socket. */
  override updateElem(_key: Uint8Array, _keyOff: number, _value: Uint8Array, _valueOff: number, _flags: number, _cpu: number): number {
    return EINVAL;
  }

  // --- user space ---

  override lookup(key: Uint8Array): Uint8Array | undefined {
    const r = this.lookupSys(key);
    return typeof r === 'number' ? undefined : r;
  }

  override update(_key: Uint8Array, value: Uint8Array, flags = 0): number {
    return sockMapFdUpdate(this.valueSize, value, flags);
  }
}
