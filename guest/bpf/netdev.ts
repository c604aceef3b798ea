// The guest kernel's contract between its BPF core and a network driver (ndo_bpf with struct
// netdev_bpf, bpf_prog_offload_ops, bpf_map_dev_ops), trimmed to what XDP and offload need. The
// virtio_net driver implements BpfNetdev (VirtnetBpf is its BPF part).
import type { FdTable, Insn } from '../../bpf-vm/index.ts';
import type { GuestMap, GuestProg } from './objects.ts';

/** enum bpf_netdev_command (Linux 5.4, the RFC's base). */
export const BPF_NETDEV_COMMAND = {
  XDP_SETUP_PROG: 0,
  XDP_SETUP_PROG_HW: 1,
  XDP_QUERY_PROG: 2,
  XDP_QUERY_PROG_HW: 3,
  BPF_OFFLOAD_MAP_ALLOC: 4,
  BPF_OFFLOAD_MAP_FREE: 5,
} as const;

/** XDP attach flags (uapi if_link.h). */
export const XDP_FLAGS = {
  XDP_FLAGS_UPDATE_IF_NOEXIST: 1 << 0,
  XDP_FLAGS_SKB_MODE: 1 << 1,
  XDP_FLAGS_DRV_MODE: 1 << 2,
  XDP_FLAGS_HW_MODE: 1 << 3,
} as const;

export const XDP_FLAGS_MODES = XDP_FLAGS.XDP_FLAGS_SKB_MODE | XDP_FLAGS.XDP_FLAGS_DRV_MODE | XDP_FLAGS.XDP_FLAGS_HW_MODE;

/** struct netdev_bpf, for the commands a driver acts on. */
export type NetdevBpf =
  | { command: typeof BPF_NETDEV_COMMAND.XDP_SETUP_PROG | typeof BPF_NETDEV_COMMAND.XDP_SETUP_PROG_HW; prog: GuestProg | null; flags: number }
  | { command: typeof BPF_NETDEV_COMMAND.BPF_OFFLOAD_MAP_ALLOC | typeof BPF_NETDEV_COMMAND.BPF_OFFLOAD_MAP_FREE; offmap: GuestMap };

/** A program being loaded, as the verifier's setup() hook sees it: map references still fds. */
export interface ProgLoadState {
  readonly name: string;
  readonly type: number;
  readonly insns: readonly Insn[];
  readonly license: string;
  readonly gplCompatible: boolean;
  readonly tag: string;
  /** The loader's fds as they are at load (the maps the references name). */
  readonly fds: FdTable;
  readonly offloadDev: BpfNetdev | undefined;
}

/** bpf_prog_offload_ops, with the RFC's setup() hook. */
export interface BpfProgOffloadOps {
  /**
   * The RFC's hook: runs BEFORE the verifier resolves map fds. Refuses what the device cannot run
   * and returns what the device keeps for the program (prog.devPriv; virtio_net: a copy whose map
   * references carry device handles). Throws GuestBpfError.
   */
  setup(prog: ProgLoadState): unknown;
  /** The program is freed, or its load failed after setup(). */
  destroy(devPriv: unknown): void;
}

/** bpf_map_dev_ops: user-space operations on an offloaded map. Throw GuestBpfError (ENOENT, ...). */
export interface BpfMapDevOps {
  lookup(map: GuestMap, key: Uint8Array): Uint8Array;
  update(map: GuestMap, key: Uint8Array, value: Uint8Array, flags: number): void;
  delete(map: GuestMap, key: Uint8Array): void;
  /** The key after `key`; the first key when `key` is undefined. ENOENT at the end. */
  getNextKey(map: GuestMap, key: Uint8Array | undefined): Uint8Array;
}

export interface BpfNetdev {
  readonly name: string;
  /** ndo_bpf. Throws GuestBpfError. BPF_OFFLOAD_MAP_ALLOC sets offmap.devOps. */
  ndoBpf(req: NetdevBpf): void;
  /** Present when programs and maps can be offloaded to this device (feature negotiated). */
  readonly offloadOps: BpfProgOffloadOps | undefined;
}
