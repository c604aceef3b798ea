// The device's host maps: bpf-vm maps in SharedArrayBuffers (so the vhost worker can open the same
// maps with share()/openSharedMap), named to the guest by a handle, within limits on their count
// and memory (the RFC's DoS open item: every offloaded map is host memory a guest asks for).
//
// Handles: opaque per-device numbers by default (1, 2, 3, ...; never reused during the device's
// life, resets included, so a stale guest handle cannot alias a newer map). With exposeHostFds,
// the handle is the map's fd in the host process's fd table, which is what the RFC's QEMU
// returned ("guest is poking host information").
//
// FREE of a map the attached program uses behaves as closing a map fd does in the kernel: the
// handle is gone at once (later commands on it get EBADF), the map itself lives on, held by the
// program, and is released (memory uncharged) when the program is detached or replaced.
import { BPF_MAP_TYPE, BpfError, createMap, FdTable, type BpfMap, type MapSpec } from '../../bpf-vm/index.ts';
import type { EbpfMapMeta } from '../../virtio/index.ts';
import { OffloadError, errnoCode } from './errors.ts';

export interface HostMap {
  readonly handle: number;
  readonly map: BpfMap;
  /** Host memory charged for it: the bytes of its shared buffers. */
  readonly bytes: number;
  readonly meta: EbpfMapMeta | undefined;
  /** FREE came while the attached program held it: no handle any more, released at detach. */
  orphan: boolean;
}

export interface MapTableLimits {
  maxMaps: number;
  maxBytes: number;
  nrCpus: number;
  exposeHostFds: boolean;
  /** The host process's fd table (exposeHostFds): shared by every device of one QEMU. */
  hostFds: FdTable;
}

/** Map types the RFC offloads: per-CPU and the rest make no sense across the guest/host split. */
export const OFFLOADABLE_MAP_TYPES: ReadonlySet<number> = new Set([BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE.BPF_MAP_TYPE_HASH]);

export class HostMapTable {
  private readonly byHandle = new Map<number, HostMap>();
  private readonly orphans = new Set<HostMap>();
  private nextHandle = 1;
  private charged = 0;

  constructor(readonly limits: MapTableLimits) {}

  get bytes(): number { return this.charged; }
  /** Maps holding host memory: live ones and orphans. */
  get count(): number { return this.byHandle.size + this.orphans.size; }

  /** Creates a map; throws OffloadError EINVAL/E2BIG (bad spec), ENOSPC (count) or ENOMEM (memory). */
  create(spec: Omit<MapSpec, 'name'>, meta: EbpfMapMeta | undefined): HostMap {
    if (!OFFLOADABLE_MAP_TYPES.has(spec.type)) {
      throw new OffloadError('EINVAL', `map type ${spec.type} cannot be offloaded (ARRAY and HASH only)`);
    }
    if (this.count >= this.limits.maxMaps) {
      throw new OffloadError('ENOSPC', `the device holds ${this.count} maps, its limit is ${this.limits.maxMaps}`);
    }
    const room = this.limits.maxBytes - this.charged;
    if (room <= 0) throw new OffloadError('ENOMEM', `offloaded maps use ${this.charged} bytes, the limit is ${this.limits.maxBytes}`);
    const full: MapSpec = { ...spec, name: meta?.name ?? 'offload_map' };
    if (meta?.keyType !== undefined || meta?.valueType !== undefined) {
      full.btf = {};
      if (meta.keyType !== undefined) full.btf.keyType = meta.keyType;
      if (meta.valueType !== undefined) full.btf.valueType = meta.valueType;
    }
    let map: BpfMap;
    try {
      map = createMap(full, { nrCpus: this.limits.nrCpus, maxBytes: room });
    } catch (e) {
      if (e instanceof BpfError) {
        throw new OffloadError(e.code === 'ENOMEM' ? 'ENOMEM' : errnoCode(e.errno), e.message, { cause: e });
      }
      throw e;
    }
    const bytes = map.share().buffers.reduce((s, b) => s + b.byteLength, 0);
    if (bytes > room) {
      throw new OffloadError('ENOMEM', `map needs ${bytes} bytes, ${room} of the ${this.limits.maxBytes}-byte limit are left`);
    }
    const handle = this.limits.exposeHostFds ? this.limits.hostFds.add(map) : this.nextHandle++;
    const entry: HostMap = { handle, map, bytes, meta, orphan: false };
    this.byHandle.set(handle, entry);
    this.charged += bytes;
    return entry;
  }

  /** A map by handle (never an orphan: its handle is closed). */
  get(handle: number): HostMap | undefined {
    return this.byHandle.get(handle);
  }

  /** MAP FREE: drops the handle; the map lives on as an orphan while `heldByProgram`. */
  free(entry: HostMap, heldByProgram: boolean): void {
    this.byHandle.delete(entry.handle);
    if (this.limits.exposeHostFds) this.limits.hostFds.close(entry.handle);
    if (heldByProgram) {
      entry.orphan = true;
      this.orphans.add(entry);
    } else {
      this.charged -= entry.bytes;
    }
  }

  /** After a detach or a replacement: releases the orphans the (new) program does not hold. */
  releaseOrphans(held: ReadonlySet<HostMap>): void {
    for (const o of this.orphans) {
      if (held.has(o)) continue;
      this.orphans.delete(o);
      this.charged -= o.bytes;
    }
  }

  /** Live maps in handle order, then orphans. */
  all(): HostMap[] {
    return [...[...this.byHandle.values()].sort((a, b) => a.handle - b.handle), ...this.orphans];
  }

  /** Device reset: everything goes (handles keep counting up). */
  clear(): void {
    if (this.limits.exposeHostFds) for (const h of this.byHandle.keys()) this.limits.hostFds.close(h);
    this.byHandle.clear();
    this.orphans.clear();
    this.charged = 0;
  }
}
