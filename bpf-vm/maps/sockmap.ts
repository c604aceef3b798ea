// BPF_MAP_TYPE_SOCKMAP (net/core/sock_map.c, struct bpf_stab): an array of sockets indexed by a u32
// key, each slot holding the socket's cookie (0: empty) so that every worker can read it.
//
// Layout: one SharedArrayBuffer, an Int32 header (lock, magic, max_entries) then max_entries u64
// cookies read and written with Atomics (BigInt64Array): a reader never sees half a cookie.
// `values` is empty: the kernel never hands a program a pointer into a sockmap (a lookup yields
// the socket), so there is nothing for a program to address.
//
// The kernel's rules kept here: update past max_entries is E2BIG, flags past BPF_EXIST EINVAL,
// BPF_NOEXIST/BPF_EXIST against the slot; delete of an index past max_entries or of an empty slot
// is EINVAL (not ENOENT); get_next_key walks every index, empty or not (0 first, ENOENT after
// max_entries - 1, 0 again for a key past the end); a user-space lookup returns the cookie for
// 8-byte values and ENOSPC for 4-byte ones, ENOENT for an empty slot.
import type { MapSpec } from './map.ts';
import type { SharedMapState } from './shared.ts';
import { BpfError } from '../errors.ts';
import { ERRNO } from '../errno.ts';
import { lockAcquire, lockRelease } from './lock.ts';
import { allocShared, checkShared, readU32, u32Key, EBUSY, EEXIST, EFAULT, EINVAL, ENOENT, E2BIG } from './mem.ts';
import { cookieBytes, sockMapBadFlags, sockMapFdUpdate, type SockMapOps } from './sock-map-ops.ts';

const H_LOCK = 0;
const H_MAGIC = 1;
const H_MAX = 2;
/** Header bytes: the cookies start 8-byte aligned after it. */
const HEADER_BYTES = 16;
const MAGIC = 0x73746162; // 'stab'
const ENOSPC = -ERRNO.ENOSPC;

export function sockmapBytes(spec: MapSpec): number {
  return HEADER_BYTES + 8 * spec.maxEntries;
}

export class SockMap implements SockMapOps {
  readonly spec: MapSpec;
  readonly values: Uint8Array;
  private readonly meta: Int32Array;
  private readonly cookies: BigInt64Array;
  private readonly nrCpus: number;
  private readonly maxEntries: number;

  static create(spec: MapSpec, nrCpus: number): SockMap {
    const buf = allocShared(sockmapBytes(spec), `sockmap ${spec.name}`);
    const meta = new Int32Array(buf, 0, HEADER_BYTES / 4);
    meta[H_MAX] = spec.maxEntries;
    Atomics.store(meta, H_MAGIC, MAGIC);
    return new SockMap(spec, nrCpus, [buf]);
  }

  static open(state: SharedMapState): SockMap {
    return new SockMap(state.spec, state.nrCpus, state.buffers);
  }

  private constructor(spec: MapSpec, nrCpus: number, buffers: SharedArrayBuffer[]) {
    const what = `sockmap ${spec.name}`;
    const buf = checkShared(buffers[0], sockmapBytes(spec), what);
    this.spec = spec;
    this.nrCpus = nrCpus;
    this.maxEntries = spec.maxEntries;
    this.meta = new Int32Array(buf, 0, HEADER_BYTES / 4);
    this.cookies = new BigInt64Array(buf, HEADER_BYTES, spec.maxEntries);
    this.values = new Uint8Array(buf, 0, 0);
    if (Atomics.load(this.meta, H_MAGIC) !== MAGIC || this.meta[H_MAX] !== spec.maxEntries) {
      throw new BpfError('EINVAL', `${what}: shared state does not match the spec (max_entries ${spec.maxEntries})`);
    }
  }

  private lock(): boolean {
    return lockAcquire(this.meta, H_LOCK);
  }

  private unlock(): void {
    lockRelease(this.meta, H_LOCK);
  }

  // --- cookie level (SockMapOps) ---

  lookupCookie(key: Uint8Array, keyOff: number): bigint {
    if (keyOff + 4 > key.length) return 0n;
    const i = readU32(key, keyOff);
    return i < this.maxEntries ? Atomics.load(this.cookies, i) : 0n;
  }

  /** sock_map_update_common: flags, then the index (E2BIG), then the slot under the map's lock. */
  updateCookie(key: Uint8Array, keyOff: number, cookie: bigint, flags: number): number {
    if (keyOff + 4 > key.length) return EFAULT;
    if (sockMapBadFlags(flags)) return EINVAL;
    const i = readU32(key, keyOff);
    if (i >= this.maxEntries) return E2BIG;
    if (!this.lock()) return EBUSY;
    const old = this.cookies[i]!;
    let err = 0;
    if (old !== 0n && flags === 1) err = EEXIST;
    else if (old === 0n && flags === 2) err = ENOENT;
    else Atomics.store(this.cookies, i, cookie);
    this.unlock();
    return err;
  }

  deleteCookie(key: Uint8Array, keyOff: number, cookie: bigint): boolean {
    if (keyOff + 4 > key.length) return false;
    const i = readU32(key, keyOff);
    if (i >= this.maxEntries || !this.lock()) return false;
    const hit = this.cookies[i] === cookie;
    if (hit) Atomics.store(this.cookies, i, 0n);
    this.unlock();
    return hit;
  }

  lookupSys(key: Uint8Array): Uint8Array | number {
    if (this.spec.valueSize !== 8) return ENOSPC;
    const c = this.lookupCookie(key, 0);
    return c === 0n ? ENOENT : cookieBytes(c);
  }

  // --- program side ---

  /** Programs get sockets, not values, from a sockmap (helpers/map-helpers.ts). */
  lookupValueOffset(_key: Uint8Array, _keyOff: number, _cpu: number): number {
    return -1;
  }

  /** An update from a program passes a socket (map-helpers.ts): value bytes are no socket. */
  updateElem(_key: Uint8Array, _keyOff: number, _value: Uint8Array, _valueOff: number, _flags: number, _cpu: number): number {
    return EINVAL;
  }

  /** sock_map_delete_elem: EINVAL past max_entries and for an empty slot. */
  deleteElem(key: Uint8Array, keyOff: number): number {
    if (keyOff + 4 > key.length) return EFAULT;
    const i = readU32(key, keyOff);
    if (i >= this.maxEntries) return EINVAL;
    if (!this.lock()) return EBUSY;
    const old = this.cookies[i]!;
    if (old !== 0n) Atomics.store(this.cookies, i, 0n);
    this.unlock();
    return old !== 0n ? 0 : EINVAL;
  }

  // --- user space ---

  lookup(key: Uint8Array): Uint8Array | undefined {
    const r = this.lookupSys(key);
    return typeof r === 'number' ? undefined : r;
  }

  update(_key: Uint8Array, value: Uint8Array, flags = 0): number {
    return sockMapFdUpdate(this.spec.valueSize, value, flags);
  }

  delete(key: Uint8Array): number {
    return this.deleteElem(key, 0);
  }

  /** sock_map_get_next_key: every index in order, whether a socket is there or not. */
  getNextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const i = key !== undefined && key.length >= 4 ? readU32(key, 0) : 0xffffffff;
    if (i === this.maxEntries - 1) return undefined;
    return u32Key(i >= this.maxEntries ? 0 : i + 1);
  }

  /** Sockets in the map (a snapshot). */
  count(): number {
    let n = 0;
    for (let i = 0; i < this.maxEntries; i++) if (Atomics.load(this.cookies, i) !== 0n) n++;
    return n;
  }

  share(): SharedMapState {
    return { spec: this.spec, nrCpus: this.nrCpus, buffers: [this.meta.buffer as SharedArrayBuffer] };
  }
}
