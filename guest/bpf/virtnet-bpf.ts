// The BPF part of the guest's virtio_net driver, as the RFC added it (virtnet_xdp, the
// bpf_prog_offload_ops with the new setup() hook, the bpf_map_dev_ops), speaking class
// VIRTIO_NET_CTRL_EBPF over a CtrlChannel. The driver proper composes it: its ndo_bpf is
// VirtnetBpf.ndoBpf, and its own native XDP setup is passed in as setNativeXdp.
//
// Beyond the RFC: offload only when the device offered VIRTIO_NET_F_VXO_EBPF_OFFLOAD (the RFC
// registered unconditionally); the setup() hook checks src_reg before rewriting an ld_imm64 (the
// RFC rewrote every one, breaking plain 64-bit constants) and rewrites BPF_PSEUDO_MAP_VALUE
// references too; failures carry the device's errno and verifier log (the RFC: -EFAULT); map and
// program metadata travel when VIRTIO_NET_F_VXO_EBPF_META was negotiated.
import { BPF_FUNC, BPF_MAP_TYPE, BPF_PROG_TYPE, BPF_PSEUDO_LD, encodeInsns, type Insn } from '../../bpf-vm/index.ts';
import {
  bpfObjName, ebpfCmd, decodeEbpfHandle, VIRTIO_NET_BPF_DEFAULT_LOG_ROOM, VIRTIO_NET_BPF_OFFLOAD_HELPERS, VIRTIO_NET_F,
  VIRTIO_NET_F_VXO, type EbpfMapMeta, type EbpfMapRef, type FeatureSet,
} from '../../virtio/index.ts';
import { sendEbpfCommand, type CtrlChannel } from './ctrl-channel.ts';
import { GuestBpfError } from './errors.ts';
import {
  BPF_NETDEV_COMMAND, type BpfMapDevOps, type BpfNetdev, type BpfProgOffloadOps, type NetdevBpf, type ProgLoadState,
} from './netdev.ts';
import { OffloadedMap } from './offloaded-map.ts';
import type { GuestMap, GuestProg } from './objects.ts';
import { XdpAttachState } from './xdp-attach.ts';

export interface VirtnetBpfOptions {
  /** The interface name, for messages (default eth0). */
  name?: string;
  ctrl: CtrlChannel;
  /** The features negotiated at probe. */
  features: FeatureSet;
  /** The driver's own native XDP setup (virtnet_xdp_set's work). Without it native XDP is EOPNOTSUPP. */
  setNativeXdp?: (prog: GuestProg | null) => void;
  /** Result room for the host verifier's log on SET_OFFLOAD (default 16 KiB). */
  logRoom?: number;
  /** Helper ids the setup() hook lets through (default: the RFC's 11). */
  allowedHelpers?: ReadonlySet<number>;
}

/** virtnet_bpf_map: what the driver keeps of an offloaded map. */
export class VirtnetMap {
  constructor(readonly ref: EbpfMapRef) {}
}

/** virtnet_bpf_bound_prog: the setup() hook's copy, map references carrying device handles. */
export class VirtnetBoundProg {
  constructor(readonly insns: Uint8Array, readonly handles: readonly number[]) {}
}

const HELPER_NAMES = new Map<number, string>(Object.entries(BPF_FUNC).map(([k, v]) => [v, k]));
const DEFAULT_ALLOWED: ReadonlySet<number> = new Set(Object.values(VIRTIO_NET_BPF_OFFLOAD_HELPERS));

function helperLabel(id: number): string {
  const n = HELPER_NAMES.get(id);
  return n === undefined ? `#${id}` : `bpf_${n}#${id}`;
}

export class VirtnetBpf implements BpfNetdev {
  readonly name: string;
  readonly xdp = new XdpAttachState();
  /** VIRTIO_NET_F_CTRL_VQ and VIRTIO_NET_F_VXO_EBPF_OFFLOAD negotiated. */
  readonly canOffload: boolean;
  /** VIRTIO_NET_F_VXO_EBPF_META negotiated as well. */
  readonly metadata: boolean;
  readonly offloadOps: BpfProgOffloadOps | undefined;
  /** vi->map_list: the maps offloaded through this device. */
  readonly offloadedMaps = new Set<GuestMap>();
  private readonly ctrl: CtrlChannel;
  private readonly setNativeXdp: ((prog: GuestProg | null) => void) | undefined;
  private readonly logRoom: number;
  private readonly allowed: ReadonlySet<number>;
  private readonly mapOps: BpfMapDevOps;

  constructor(o: VirtnetBpfOptions) {
    this.name = o.name ?? 'eth0';
    this.ctrl = o.ctrl;
    this.setNativeXdp = o.setNativeXdp;
    this.logRoom = o.logRoom ?? VIRTIO_NET_BPF_DEFAULT_LOG_ROOM;
    this.allowed = o.allowedHelpers ?? DEFAULT_ALLOWED;
    this.canOffload = o.features.has(VIRTIO_NET_F.VIRTIO_NET_F_CTRL_VQ) && o.features.has(VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_OFFLOAD);
    this.metadata = this.canOffload && o.features.has(VIRTIO_NET_F_VXO.VIRTIO_NET_F_VXO_EBPF_META);
    this.offloadOps = this.canOffload
      ? { setup: (p) => this.verifierSetup(p), destroy: () => undefined }
      : undefined;
    this.mapOps = {
      lookup: (m, key) => this.mapData(m, this.send(ebpfCmd.lookupElem(this.ref(m), key), `${this.name}: LOOKUP_ELEM`), m.spec.valueSize),
      update: (m, key, value, flags) => { this.send(ebpfCmd.updateElem(this.ref(m), key, value, flags), `${this.name}: UPDATE_ELEM`); },
      delete: (m, key) => { this.send(ebpfCmd.deleteElem(this.ref(m), key), `${this.name}: DELETE_ELEM`); },
      getNextKey: (m, key) => {
        const req = key === undefined ? ebpfCmd.getFirst(this.ref(m)) : ebpfCmd.getNext(this.ref(m), key);
        return this.mapData(m, this.send(req, `${this.name}: ${key === undefined ? 'GET_FIRST' : 'GET_NEXT'}`), m.spec.keySize);
      },
    };
  }

  /** virtnet_xdp: ndo_bpf. */
  ndoBpf(req: NetdevBpf): void {
    switch (req.command) {
      case BPF_NETDEV_COMMAND.XDP_SETUP_PROG:
        return this.xdpSetNative(req.prog);
      case BPF_NETDEV_COMMAND.XDP_SETUP_PROG_HW:
        return this.xdpSetOffload(req.prog);
      case BPF_NETDEV_COMMAND.BPF_OFFLOAD_MAP_ALLOC:
        return this.mapAlloc(req.offmap);
      case BPF_NETDEV_COMMAND.BPF_OFFLOAD_MAP_FREE:
        return this.mapFree(req.offmap);
      default:
        throw new GuestBpfError('EINVAL', `${this.name}: ndo_bpf command ${(req as { command: number }).command} is not supported`);
    }
  }

  private requireOffload(what: string): void {
    if (!this.canOffload) {
      throw new GuestBpfError('EOPNOTSUPP', `${this.name}: ${what}: the device does not offer XDP offload (VIRTIO_NET_F_VXO_EBPF_OFFLOAD)`);
    }
  }

  private send(req: Parameters<typeof sendEbpfCommand>[1], what: string): Uint8Array {
    return sendEbpfCommand(this.ctrl, req, what);
  }

  private ref(m: GuestMap): EbpfMapRef {
    if (!(m.devPriv instanceof VirtnetMap)) throw new GuestBpfError('EINVAL', `${this.name}: map ${m.spec.name} is not offloaded here`);
    return m.devPriv.ref;
  }

  private mapData(m: GuestMap, data: Uint8Array, size: number): Uint8Array {
    if (data.length !== size) throw new GuestBpfError('EIO', `${this.name}: map ${m.spec.name}: the device answered ${data.length} bytes, expected ${size}`, { source: 'device' });
    return data;
  }

  // --- XDP attach ---------------------------------------------------------------------------

  /** virtnet_xdp_set's checks; the rest is the driver's own. */
  private xdpSetNative(prog: GuestProg | null): void {
    this.xdp.checkNative(prog, this.name);
    if (prog !== null && prog.offloadDev !== undefined) {
      throw new GuestBpfError('EINVAL', `${this.name}: using device-bound program without HW_MODE flag is not supported`);
    }
    if (this.setNativeXdp === undefined) {
      if (prog !== null) throw new GuestBpfError('EOPNOTSUPP', `${this.name}: the driver has no native XDP`);
    } else {
      this.setNativeXdp(prog);
    }
    this.xdp.native = prog;
  }

  /** virtnet_xdp_offload_check + virtnet_xdp_set_offload. */
  private xdpSetOffload(prog: GuestProg | null): void {
    this.requireOffload('XDP_SETUP_PROG_HW');
    if (prog === null) {
      // Nothing attached: nothing to tell the device (the core treats it as a no-op too).
      if (this.xdp.offload === null) return;
      this.send(ebpfCmd.unsetOffload(), `${this.name}: UNSET_OFFLOAD`);
      this.xdp.offload = null;
      return;
    }
    if (prog.offloadDev === undefined) throw new GuestBpfError('EINVAL', `${this.name}: xdpoffload of non-bound program`);
    if (prog.offloadDev !== this) throw new GuestBpfError('EINVAL', `${this.name}: program bound to different dev`);
    this.xdp.checkOffload(prog, this.name);
    if (prog.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_XDP) throw new GuestBpfError('EOPNOTSUPP', `${this.name}: only XDP programs can be offloaded`);
    const bound = prog.devPriv;
    if (!(bound instanceof VirtnetBoundProg)) throw new GuestBpfError('EINVAL', `${this.name}: program ${prog.name} was not set up for this device`);
    const meta = this.metadata ? { name: bpfObjName(prog.name), tag: prog.tag, license: prog.license } : undefined;
    this.send(ebpfCmd.setOffload({ insns: bound.insns, gplCompatible: prog.gplCompatible, meta, logRoom: this.logRoom }), `${this.name}: SET_OFFLOAD`);
    this.xdp.offload = prog;
  }

  // --- maps ---------------------------------------------------------------------------------

  /** virtnet_bpf_map_alloc: CREATE_MAP on the device, then the map's ops go there. */
  private mapAlloc(m: GuestMap): void {
    this.requireOffload('BPF_OFFLOAD_MAP_ALLOC');
    const s = m.spec;
    if (s.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY && s.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_HASH) {
      throw new GuestBpfError('EINVAL', `${this.name}: map type ${s.type} cannot be offloaded (ARRAY and HASH only)`);
    }
    let meta: EbpfMapMeta | undefined;
    if (this.metadata) {
      meta = { name: bpfObjName(s.name) };
      if (s.btf?.keyType !== undefined) meta.keyType = s.btf.keyType;
      if (s.btf?.valueType !== undefined) meta.valueType = s.btf.valueType;
    }
    const data = this.send(
      ebpfCmd.createMap({ mapType: s.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, mapFlags: s.flags, meta }),
      `${this.name}: CREATE_MAP${s.name ? ` ${s.name}` : ''}`,
    );
    const handle = decodeEbpfHandle(data);
    if (handle === undefined) throw new GuestBpfError('EIO', `${this.name}: CREATE_MAP answered ${data.length} bytes, not a handle`, { source: 'device' });
    m.devPriv = new VirtnetMap({ handle, mapType: s.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: s.maxEntries, mapFlags: s.flags });
    m.devOps = this.mapOps;
    if (m.map instanceof OffloadedMap) m.map.owner = m;
    this.offloadedMaps.add(m);
  }

  /** virtnet_bpf_map_free. */
  private mapFree(m: GuestMap): void {
    const ref = this.ref(m);
    this.offloadedMaps.delete(m);
    m.devOps = undefined;
    this.send(ebpfCmd.freeMap(ref), `${this.name}: FREE_MAP${m.spec.name ? ` ${m.spec.name}` : ''}`);
  }

  // --- the verifier's setup() hook ----------------------------------------------------------

  /**
   * virtnet_bpf_verifier_setup, before the verifier resolves map fds: refuses helpers outside the
   * allow list (naming the helper and the instruction), and copies the instructions with every
   * map reference (ld_imm64 src_reg BPF_PSEUDO_MAP_FD or BPF_PSEUDO_MAP_VALUE) carrying the
   * device's handle. Plain 64-bit constants (src_reg 0) are left alone.
   */
  private verifierSetup(p: ProgLoadState): VirtnetBoundProg {
    const copy: Insn[] = p.insns.map((i) => ({ ...i }));
    const handles = new Set<number>();
    for (let pc = 0; pc < copy.length; pc++) {
      const ins = copy[pc]!;
      if (ins.code === 0x85 && ins.src === 0 && !this.allowed.has(ins.imm)) {
        throw new GuestBpfError('EOPNOTSUPP', `${this.name}: insn ${pc}: helper ${helperLabel(ins.imm)} cannot be offloaded`, { insn: pc });
      }
      if (ins.code === 0x85 && ins.src === 2) {
        throw new GuestBpfError('EOPNOTSUPP', `${this.name}: insn ${pc}: kfunc calls cannot be offloaded`, { insn: pc });
      }
      if (ins.code !== 0x18) continue;
      if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD || ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE) {
        const bm = p.fds.get(ins.imm);
        if (bm === undefined) throw new GuestBpfError('EBADF', `insn ${pc}: fd ${ins.imm} is not pointing to valid bpf_map`, { insn: pc });
        const owner = bm instanceof OffloadedMap ? bm.owner : undefined;
        if (owner === undefined || owner.offloadDev !== this || !(owner.devPriv instanceof VirtnetMap)) {
          throw new GuestBpfError('EINVAL', `${this.name}: insn ${pc}: map ${bm.spec.name} (fd ${ins.imm}) is not offloaded to this device`, { insn: pc });
        }
        ins.imm = owner.devPriv.ref.handle | 0;
        handles.add(owner.devPriv.ref.handle);
      } else if (ins.src !== BPF_PSEUDO_LD.NONE) {
        throw new GuestBpfError('EINVAL', `${this.name}: insn ${pc}: ld_imm64 with src_reg ${ins.src} cannot be offloaded`, { insn: pc });
      }
      pc++;
    }
    return new VirtnetBoundProg(encodeInsns(copy), [...handles]);
  }
}
