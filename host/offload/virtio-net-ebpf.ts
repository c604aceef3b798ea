// The device side of control class VIRTIO_NET_CTRL_EBPF: QEMU's virtio_net_handle_ebpf with its
// _prog and _map halves, as the RFC's QEMU series wrote them and with its gaps closed: precise
// errnos in a device-writable result, strict length checks, the allow list enforced here too,
// limits on what a guest may allocate, opaque map handles, and host-side introspection.
//
// handle() never throws and always answers: every refusal is VIRTIO_NET_ERR with an errno, and a
// refused command changes nothing on the host.
import { BPF_UPDATE, FdTable } from '../../bpf-vm/index.ts';
import {
  decodeEbpfMapCmd, decodeEbpfProgCmd, EbpfCtrlDecodeError, ebpfMapKey, ebpfMapValue, encodeEbpfResult, encodeEbpfHandle,
  VIRTIO_NET_ACK, VIRTIO_NET_BPF_MAP_CMD, VIRTIO_NET_BPF_PROG_CMD, VIRTIO_NET_CTRL_EBPF_CMD, VIRTIO_NET_CTRL_EBPF_RESULT_HDR_LEN,
  type EbpfMapCmd, type EbpfProgCmd,
} from '../../virtio/index.ts';
import { OFFLOAD_ALLOWED_HELPERS } from './allow-list.ts';
import { errnoCode, OffloadError } from './errors.ts';
import { HostMapTable, type HostMap } from './map-table.ts';
import { loadOffloadedProgram, type OffloadedProgram } from './offloaded-program.ts';
import { showOffload, type OffloadShow } from './show.ts';

export interface OffloadListener {
  /** A program was attached, or replaced the attached one (no onDetach in between: a swap). */
  onAttach(prog: OffloadedProgram): void;
  /** The attached program was removed (UNSET_OFFLOAD or reset). */
  onDetach(): void;
}

export interface VirtioNetEbpfOptions {
  /** Return host map fds to the guest as the RFC did, instead of opaque handles (default false). */
  exposeHostFds?: boolean;
  /** The host process's fd table, for exposeHostFds (default: one per device). */
  hostFds?: FdTable;
  /** Maps a guest may hold on the host (default 64). */
  maxMaps?: number;
  /** Host memory all of a guest's maps may use, bytes (default 64 MiB). */
  maxMapBytes?: number;
  /** Largest program, instructions (default 4096: QEMU's `struct bpf_insn prog[4096]`). */
  maxInsns?: number;
  /** The helper ids an offloaded program may call (default: the RFC's 11). */
  allowedHelpers?: ReadonlySet<number>;
  /** Accept the metadata trailer (offer VIRTIO_NET_F_VXO_EBPF_META; default true). */
  metadata?: boolean;
  /** Attach to every tap queue instead of queue 0 only (carried to the listener; default false). */
  allQueues?: boolean;
  /** CPUs of the host maps (HASH spares), as bpf-vm's createMap takes them. */
  nrCpus?: number;
  /** Host verifier budget (processed instructions; default the kernel's 1M). */
  verifierBudget?: number;
  listener?: OffloadListener;
}

export const VIRTIO_NET_EBPF_DEFAULTS = {
  maxMaps: 64,
  maxMapBytes: 64 << 20,
  maxInsns: 4096,
} as const;

export interface EbpfOutcome {
  ack: number;
  result: Uint8Array;
}

const OK = VIRTIO_NET_ACK.VIRTIO_NET_OK;
const ERR = VIRTIO_NET_ACK.VIRTIO_NET_ERR;
const P = VIRTIO_NET_BPF_PROG_CMD;
const M = VIRTIO_NET_BPF_MAP_CMD;
const RES = VIRTIO_NET_CTRL_EBPF_RESULT_HDR_LEN;

export class VirtioNetEbpf {
  listener: OffloadListener | undefined;
  /** What the last refused command was refused for (QEMU's error_report). */
  lastError: OffloadError | undefined;
  readonly stats = { commands: 0, ok: 0, err: 0, internal_errors: 0 };

  private readonly maps: HostMapTable;
  private readonly maxInsns: number;
  private readonly allowedHelpers: ReadonlySet<number>;
  private readonly metadata: boolean;
  private readonly allQueues: boolean;
  private readonly verifierBudget: number | undefined;
  private attached: OffloadedProgram | undefined;

  constructor(opts: VirtioNetEbpfOptions = {}) {
    this.maps = new HostMapTable({
      maxMaps: opts.maxMaps ?? VIRTIO_NET_EBPF_DEFAULTS.maxMaps,
      maxBytes: opts.maxMapBytes ?? VIRTIO_NET_EBPF_DEFAULTS.maxMapBytes,
      nrCpus: opts.nrCpus ?? 2,
      exposeHostFds: opts.exposeHostFds ?? false,
      hostFds: opts.hostFds ?? new FdTable(),
    });
    this.maxInsns = opts.maxInsns ?? VIRTIO_NET_EBPF_DEFAULTS.maxInsns;
    this.allowedHelpers = opts.allowedHelpers ?? OFFLOAD_ALLOWED_HELPERS;
    this.metadata = opts.metadata ?? true;
    this.allQueues = opts.allQueues ?? false;
    this.verifierBudget = opts.verifierBudget;
    this.listener = opts.listener;
  }

  /** The program the tap runs, if any. */
  get program(): OffloadedProgram | undefined {
    return this.attached;
  }

  /**
   * virtio_net_handle_ebpf: one command of class VIRTIO_NET_CTRL_EBPF. `resultCapacity` is the
   * room the driver gave after the ack (CtrlCommand.resultCapacity); a command whose answer
   * would not fit is refused with ENOSPC before it does anything. Without it, room is unlimited.
   */
  handle(cmd: number, data: Uint8Array, resultCapacity = Infinity): EbpfOutcome {
    this.stats.commands++;
    // Room is a byte count: anything else (NaN, negative) is no room at all.
    const cap = resultCapacity === Infinity ? Infinity : Number.isFinite(resultCapacity) ? Math.max(0, Math.floor(resultCapacity)) : 0;
    let out: EbpfOutcome;
    try {
      if (cmd === VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_PROG) out = this.handleProg(data, cap);
      else if (cmd === VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_MAP) out = this.handleMap(data, cap);
      else throw new OffloadError('EOPNOTSUPP', `class EBPF has no command ${cmd}`);
    } catch (e) {
      let err: OffloadError;
      if (e instanceof OffloadError) {
        err = e;
      } else {
        // A bug of ours, not the guest's: still an answer, and counted so tests can insist on none.
        this.stats.internal_errors++;
        err = new OffloadError('EFAULT', `internal error: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      this.lastError = err;
      // The reason travels as text: the verifier's log for a refused program, else the message.
      const why = new TextEncoder().encode(err.log ?? err.message);
      out = { ack: ERR, result: encodeEbpfResult(err.errno, why, cap) };
    }
    if (out.ack === OK) this.stats.ok++;
    else this.stats.err++;
    return out;
  }

  /** Device reset: detach, free every map. A reset cannot fail; a listener that throws is noted in lastError. */
  reset(): void {
    const had = this.attached !== undefined;
    this.attached = undefined;
    this.maps.clear();
    if (!had) return;
    try {
      this.listener?.onDetach();
    } catch (e) {
      this.lastError = new OffloadError('EFAULT', `detach from the tap at reset failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  }

  /** What runs and what it holds, like `bpftool prog show` / `map show` / `map dump`. */
  show(opts: { dump?: boolean } = {}): OffloadShow {
    return showOffload(this.attached, this.maps, {
      dump: opts.dump ?? true,
      allQueues: this.allQueues,
    });
  }

  /** A host map by handle (for the qemu worker's own use, e.g. `vxo` map dump). */
  hostMap(handle: number): HostMap | undefined {
    return this.maps.get(handle);
  }

  private ok(data: Uint8Array | undefined, cap: number): EbpfOutcome {
    return { ack: OK, result: encodeEbpfResult(0, data, cap) };
  }

  // --- PROG ---------------------------------------------------------------------------------

  private handleProg(data: Uint8Array, cap: number): EbpfOutcome {
    const c = decodeEbpfProgCmd(data);
    if (c instanceof EbpfCtrlDecodeError) throw new OffloadError('EINVAL', c.message, { cause: c });
    if (c.meta !== undefined && !this.metadata) throw new OffloadError('EINVAL', 'metadata trailer without VIRTIO_NET_F_VXO_EBPF_META');
    switch (c.cmd) {
      case P.VIRTIO_NET_BPF_CMD_SET_OFFLOAD:
        return this.setOffload(c, cap);
      case P.VIRTIO_NET_BPF_CMD_UNSET_OFFLOAD:
        return this.unsetOffload(c, cap);
      default:
        throw new OffloadError('EINVAL', `PROG sub-command ${c.cmd} is unknown`);
    }
  }

  private setOffload(c: EbpfProgCmd, cap: number): EbpfOutcome {
    const prog = loadOffloadedProgram(c, this.maps, {
      maxInsns: this.maxInsns, allowedHelpers: this.allowedHelpers, allQueues: this.allQueues, verifierBudget: this.verifierBudget,
    });
    const old = this.attached;
    this.attached = prog;
    try {
      this.listener?.onAttach(prog);
    } catch (e) {
      // The tap refused (TUNSETOFFLOADEDXDP failed): the old program stays.
      this.attached = old;
      throw new OffloadError('EFAULT', `attach to the tap failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    this.maps.releaseOrphans(prog.holds);
    return this.ok(undefined, cap);
  }

  private unsetOffload(c: EbpfProgCmd, cap: number): EbpfOutcome {
    if (c.insns.length !== 0 || c.meta !== undefined) throw new OffloadError('EINVAL', 'UNSET_OFFLOAD carries no instructions or metadata');
    const old = this.attached;
    if (old === undefined) throw new OffloadError('ENOENT', 'UNSET_OFFLOAD: no program is offloaded');
    this.attached = undefined;
    try {
      this.listener?.onDetach();
    } catch (e) {
      // The tap kept the program (TUNSETOFFLOADEDXDP -1 failed): so does the device.
      this.attached = old;
      throw new OffloadError('EFAULT', `detach from the tap failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    this.maps.releaseOrphans(new Set());
    return this.ok(undefined, cap);
  }

  // --- MAP ----------------------------------------------------------------------------------

  private handleMap(data: Uint8Array, cap: number): EbpfOutcome {
    const c = decodeEbpfMapCmd(data);
    if (c instanceof EbpfCtrlDecodeError) throw new OffloadError('EINVAL', c.message, { cause: c });
    if (c.meta !== undefined && (!this.metadata || c.cmd !== M.VIRTIO_NET_BPF_CMD_CREATE_MAP)) {
      throw new OffloadError('EINVAL', this.metadata ? 'a metadata trailer only goes with CREATE_MAP' : 'metadata trailer without VIRTIO_NET_F_VXO_EBPF_META');
    }
    if (c.cmd === M.VIRTIO_NET_BPF_CMD_CREATE_MAP) return this.createMap(c, cap);
    if (c.cmd < M.VIRTIO_NET_BPF_CMD_FREE_MAP || c.cmd > M.VIRTIO_NET_BPF_CMD_GET_NEXT) {
      throw new OffloadError('EINVAL', `MAP sub-command ${c.cmd} is unknown`);
    }
    const hm = this.maps.get(c.mapFd);
    if (hm === undefined) throw new OffloadError('EBADF', `map handle ${c.mapFd} is not a map of this device`);
    const s = hm.map.spec;
    if (c.mapType !== s.type || c.keySize !== s.keySize || c.valueSize !== s.valueSize || c.maxEntries !== s.maxEntries || c.mapFlags !== s.flags) {
      throw new OffloadError('EINVAL', `map handle ${c.mapFd}: header (type ${c.mapType}, key ${c.keySize}, value ${c.valueSize}, max_entries ${c.maxEntries}, flags 0x${c.mapFlags.toString(16)}) does not match the map (type ${s.type}, key ${s.keySize}, value ${s.valueSize}, max_entries ${s.maxEntries}, flags 0x${s.flags.toString(16)})`);
    }
    if (c.cmd !== M.VIRTIO_NET_BPF_CMD_UPDATE_ELEM && c.flags !== 0n) {
      throw new OffloadError('EINVAL', `flags 0x${c.flags.toString(16)} on a sub-command that takes none`);
    }
    const need = (n: number): void => {
      if (cap < RES + n) throw new OffloadError('ENOSPC', `the answer needs ${RES + n} result bytes, the driver gave ${cap}`);
    };
    const map = hm.map;
    switch (c.cmd) {
      case M.VIRTIO_NET_BPF_CMD_FREE_MAP:
        this.maps.free(hm, this.attached?.holds.has(hm) ?? false);
        return this.ok(undefined, cap);
      case M.VIRTIO_NET_BPF_CMD_UPDATE_ELEM: {
        if (c.flags > BigInt(BPF_UPDATE.BPF_EXIST)) throw new OffloadError('EINVAL', `update flags 0x${c.flags.toString(16)} are not BPF_ANY/NOEXIST/EXIST`);
        const r = map.update(ebpfMapKey(c).slice(), ebpfMapValue(c).slice(), Number(c.flags));
        if (r < 0) throw new OffloadError(errnoCode(r), `UPDATE_ELEM on map handle ${c.mapFd}: ${errnoCode(r)}`);
        return this.ok(undefined, cap);
      }
      case M.VIRTIO_NET_BPF_CMD_LOOKUP_ELEM: {
        need(s.valueSize);
        const v = map.lookup(ebpfMapKey(c).slice());
        if (v === undefined) throw new OffloadError('ENOENT', `LOOKUP_ELEM on map handle ${c.mapFd}: no such key`);
        return this.ok(v, cap);
      }
      case M.VIRTIO_NET_BPF_CMD_DELETE_ELEM: {
        const r = map.delete(ebpfMapKey(c).slice());
        if (r < 0) throw new OffloadError(errnoCode(r), `DELETE_ELEM on map handle ${c.mapFd}: ${errnoCode(r)}`);
        return this.ok(undefined, cap);
      }
      case M.VIRTIO_NET_BPF_CMD_GET_FIRST:
      case M.VIRTIO_NET_BPF_CMD_GET_NEXT: {
        need(s.keySize);
        const first = c.cmd === M.VIRTIO_NET_BPF_CMD_GET_FIRST;
        const k = map.getNextKey(first ? undefined : ebpfMapKey(c).slice());
        if (k === undefined) throw new OffloadError('ENOENT', `${first ? 'GET_FIRST' : 'GET_NEXT'} on map handle ${c.mapFd}: no ${first ? '' : 'next '}key`);
        return this.ok(k, cap);
      }
      default:
        throw new OffloadError('EINVAL', `MAP sub-command ${c.cmd} is unknown`);
    }
  }

  private createMap(c: EbpfMapCmd, cap: number): EbpfOutcome {
    if (c.mapFd !== 0) throw new OffloadError('EINVAL', `CREATE_MAP with map_fd ${c.mapFd}: the device assigns it`);
    if (c.flags !== 0n) throw new OffloadError('EINVAL', `CREATE_MAP with flags 0x${c.flags.toString(16)}`);
    if (cap < RES + 4) throw new OffloadError('ENOSPC', `CREATE_MAP needs ${RES + 4} result bytes for the handle, the driver gave ${cap}`);
    const hm = this.maps.create(
      { type: c.mapType, keySize: c.keySize, valueSize: c.valueSize, maxEntries: c.maxEntries, flags: c.mapFlags },
      c.meta,
    );
    return this.ok(encodeEbpfHandle(hm.handle), cap);
  }
}
