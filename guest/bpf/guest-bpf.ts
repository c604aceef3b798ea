// The guest kernel's BPF layer behind a bpf()-like API: one process's fd table of maps and
// programs, map operations, program load through the verifier (with a device's setup() hook for
// offload), and XDP attach to a network device (what netlink's IFLA_XDP does).
//
// A map created with mapIfindex is offloaded: BPF_OFFLOAD_MAP_ALLOC goes to the device and every
// later operation on it becomes a device command. A program loaded with progIfindex is bound to
// the device: the device's setup() hook sees it before the verifier resolves its map fds, then
// bpf-vm's verifier checks the original.
import {
  BPF_MAP_TYPE, BPF_PROG_TYPE, BPF_PSEUDO_LD, BpfError, createMap, encodeInsns, progTypeName,
  type BpfMap, type Insn, type MapSpec, type Program, type ProgType,
} from '../../bpf-vm/index.ts';
import { VerifierError, verifyProgram, type VerifierLogLevel } from '../../bpf-vm/verifier/index.ts';
import { ebpfProgTag } from '../../virtio/index.ts';
import { GuestBpfError, guestErrnoCode } from './errors.ts';
import { BPF_NETDEV_COMMAND, XDP_FLAGS, XDP_FLAGS_MODES, type BpfNetdev } from './netdev.ts';
import { OffloadedMap } from './offloaded-map.ts';
import { loadObject, type LoadedObject, type LoadObjectOptions } from './object-loader.ts';
import { FdSnapshot, type GuestMap, type GuestProg } from './objects.ts';

export interface MapCreateAttr {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  /** At most 15 of [A-Za-z0-9_.], as BPF_OBJ_NAME_LEN allows. */
  mapName?: string;
  /** Offload to this device (0 or absent: a map in the guest). */
  mapIfindex?: number;
  /** BTF type names of key and value (carried to the device as metadata). */
  btf?: { keyType?: string; valueType?: string };
}

export interface ProgLoadAttr {
  progType: number;
  insns: readonly Insn[];
  license?: string;
  progName?: string;
  /** Bind to this device for offload (0 or absent: a program for the guest). */
  progIfindex?: number;
  /** The verifier's log level on failure (default 1, as libbpf retries with a log). */
  logLevel?: VerifierLogLevel;
}

interface NetdevEntry {
  dev: BpfNetdev;
  ifindex: number;
  native: GuestProg | null;
  hw: GuestProg | null;
}

type FdObject = { kind: 'map'; obj: GuestMap } | { kind: 'prog'; obj: GuestProg };

const NAME_RE = /^[A-Za-z0-9_.]{0,15}$/;
const KNOWN_PROG_TYPES: ReadonlySet<number> = new Set(Object.values(BPF_PROG_TYPE));
/** The kernel's BPF_COMPLEXITY_LIMIT_INSNS: the largest program a privileged loader may pass. */
const BPF_MAXINSNS = 1_000_000;

function err(code: ConstructorParameters<typeof GuestBpfError>[0], message: string, opts?: ConstructorParameters<typeof GuestBpfError>[2]): never {
  throw new GuestBpfError(code, message, opts);
}

function isGplCompatible(license: string): boolean {
  // license_is_gpl_compatible
  return ['GPL', 'GPL v2', 'GPL and additional rights', 'Dual BSD/GPL', 'Dual MIT/GPL', 'Dual MPL/GPL'].includes(license);
}

export class GuestBpf {
  private readonly fds = new Map<number, FdObject>();
  private nextFd = 3;
  private nextMapId = 1;
  private nextProgId = 1;
  private readonly netdevs = new Map<number, NetdevEntry>();
  private nextIfindex = 2;
  /** Errors of frees nobody could be told about (a device that failed MAP FREE). */
  readonly freeErrors: GuestBpfError[] = [];

  /** register_netdev: returns the device's ifindex (1 is the loopback's). */
  registerNetdev(dev: BpfNetdev): number {
    const ifindex = this.nextIfindex++;
    this.netdevs.set(ifindex, { dev, ifindex, native: null, hw: null });
    return ifindex;
  }

  /** unregister_netdev: detaches its programs first (the device is going away). */
  unregisterNetdev(ifindex: number): void {
    const e = this.netdevs.get(ifindex);
    if (!e) return;
    if (e.hw) this.xdpDetach(ifindex, XDP_FLAGS.XDP_FLAGS_HW_MODE);
    if (e.native) this.xdpDetach(ifindex, XDP_FLAGS.XDP_FLAGS_DRV_MODE);
    this.netdevs.delete(ifindex);
  }

  // --- fds ----------------------------------------------------------------------------------

  private addFd(o: FdObject): number {
    const fd = this.nextFd++;
    this.fds.set(fd, o);
    return fd;
  }

  /** The map behind an fd (EBADF when it is not one). */
  map(fd: number): GuestMap {
    const o = this.fds.get(fd);
    if (o?.kind !== 'map') err('EBADF', `fd ${fd} is not a map`);
    return o.obj;
  }

  /** The program behind an fd (EBADF when it is not one). */
  prog(fd: number): GuestProg {
    const o = this.fds.get(fd);
    if (o?.kind !== 'prog') err('EBADF', `fd ${fd} is not a program`);
    return o.obj;
  }

  close(fd: number): void {
    const o = this.fds.get(fd);
    if (!o) err('EBADF', `fd ${fd} is not open`);
    this.fds.delete(fd);
    if (o.kind === 'map') this.mapPut(o.obj);
    else this.progPut(o.obj);
  }

  private netdev(ifindex: number, what: string): NetdevEntry {
    const e = this.netdevs.get(ifindex);
    if (!e) err('EINVAL', `${what}: no device with ifindex ${ifindex}`);
    return e;
  }

  // --- maps ---------------------------------------------------------------------------------

  mapCreate(attr: MapCreateAttr): number {
    const name = attr.mapName ?? '';
    if (!NAME_RE.test(name)) err('EINVAL', `map name '${name}' is not at most 15 of [A-Za-z0-9_.]`);
    const spec: MapSpec = {
      name, type: attr.mapType, keySize: attr.keySize, valueSize: attr.valueSize, maxEntries: attr.maxEntries, flags: attr.mapFlags ?? 0,
    };
    if (attr.btf) spec.btf = { ...attr.btf };
    const id = this.nextMapId++;
    if (attr.mapIfindex !== undefined && attr.mapIfindex !== 0) {
      const { dev } = this.netdev(attr.mapIfindex, `map ${name}`);
      if (dev.offloadOps === undefined) err('EOPNOTSUPP', `map ${name}: ${dev.name} cannot offload maps`);
      // bpf_map_offload_map_alloc: the types an offload may take, refused before the device hears of it.
      if (spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY && spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_HASH) {
        err('EINVAL', `map ${name}: type ${spec.type} cannot be offloaded (ARRAY and HASH only)`);
      }
      const proxy = new OffloadedMap(spec);
      const obj: GuestMap = { id, spec, map: proxy, offloadDev: dev, devOps: undefined, devPriv: undefined, refs: 1 };
      proxy.owner = obj;
      dev.ndoBpf({ command: BPF_NETDEV_COMMAND.BPF_OFFLOAD_MAP_ALLOC, offmap: obj });
      return this.addFd({ kind: 'map', obj });
    }
    let map: BpfMap;
    try {
      map = createMap(spec);
    } catch (e) {
      if (e instanceof BpfError) err(guestErrnoCode(e.errno), e.message, { cause: e });
      throw e;
    }
    return this.addFd({ kind: 'map', obj: { id, spec, map, offloadDev: undefined, devOps: undefined, devPriv: undefined, refs: 1 } });
  }

  private checkKey(m: GuestMap, key: Uint8Array, what: string): void {
    if (key.length !== m.spec.keySize) err('EINVAL', `${what} on map ${m.spec.name}: key of ${key.length} bytes, key_size is ${m.spec.keySize}`);
  }

  mapLookupElem(fd: number, key: Uint8Array): Uint8Array {
    const m = this.map(fd);
    this.checkKey(m, key, 'lookup');
    if (m.devOps) return m.devOps.lookup(m, key);
    const v = m.map.lookup(key);
    if (v === undefined) err('ENOENT', `lookup on map ${m.spec.name}: no such key`);
    return v;
  }

  mapUpdateElem(fd: number, key: Uint8Array, value: Uint8Array, flags = 0): void {
    const m = this.map(fd);
    this.checkKey(m, key, 'update');
    if (value.length !== m.spec.valueSize) err('EINVAL', `update on map ${m.spec.name}: value of ${value.length} bytes, value_size is ${m.spec.valueSize}`);
    if (m.devOps) return m.devOps.update(m, key, value, flags);
    const r = m.map.update(key, value, flags);
    if (r < 0) err(guestErrnoCode(r), `update on map ${m.spec.name}: ${guestErrnoCode(r)}`);
  }

  mapDeleteElem(fd: number, key: Uint8Array): void {
    const m = this.map(fd);
    this.checkKey(m, key, 'delete');
    if (m.devOps) return m.devOps.delete(m, key);
    const r = m.map.delete(key);
    if (r < 0) err(guestErrnoCode(r), `delete on map ${m.spec.name}: ${guestErrnoCode(r)}`);
  }

  /** BPF_MAP_GET_NEXT_KEY: the key after `key`, the first one without; ENOENT at the end. */
  mapGetNextKey(fd: number, key?: Uint8Array): Uint8Array {
    const m = this.map(fd);
    if (key !== undefined) this.checkKey(m, key, 'get_next_key');
    if (m.devOps) return m.devOps.getNextKey(m, key);
    const k = m.map.getNextKey(key);
    if (k === undefined) err('ENOENT', `get_next_key on map ${m.spec.name}: no next key`);
    return k;
  }

  /** Every entry, through GET_NEXT_KEY and LOOKUP as `bpftool map dump` does. */
  mapDump(fd: number): { key: Uint8Array; value: Uint8Array }[] {
    const out: { key: Uint8Array; value: Uint8Array }[] = [];
    const m = this.map(fd);
    let key: Uint8Array | undefined;
    for (let i = 0; i <= 2 * m.spec.maxEntries + 16; i++) {
      try {
        key = this.mapGetNextKey(fd, key);
      } catch (e) {
        if (e instanceof GuestBpfError && e.code === 'ENOENT') break;
        throw e;
      }
      try {
        out.push({ key, value: this.mapLookupElem(fd, key) });
      } catch (e) {
        if (!(e instanceof GuestBpfError && e.code === 'ENOENT')) throw e;
      }
    }
    return out;
  }

  private mapPut(m: GuestMap): void {
    if (--m.refs > 0) return;
    if (m.offloadDev && m.devOps) {
      try {
        m.offloadDev.ndoBpf({ command: BPF_NETDEV_COMMAND.BPF_OFFLOAD_MAP_FREE, offmap: m });
      } catch (e) {
        // Freeing cannot fail for the caller (close() returns nothing to say it); keep the reason.
        if (e instanceof GuestBpfError) this.freeErrors.push(e);
        else throw e;
      }
    }
  }

  // --- programs -----------------------------------------------------------------------------

  progLoad(attr: ProgLoadAttr): number {
    const name = attr.progName ?? '';
    if (!NAME_RE.test(name)) err('EINVAL', `program name '${name}' is not at most 15 of [A-Za-z0-9_.]`);
    if (!KNOWN_PROG_TYPES.has(attr.progType)) err('EINVAL', `program ${name}: unknown program type ${attr.progType}`);
    const n = attr.insns.length;
    if (n === 0) err('EINVAL', 'a program needs instructions');
    if (n > BPF_MAXINSNS) err('E2BIG', `BPF program is too large. Processed ${n} insn (limit ${BPF_MAXINSNS})`);
    const insns = attr.insns.map((i) => ({ ...i }));
    const license = attr.license ?? '';
    const gplCompatible = isGplCompatible(license);

    let offloadDev: BpfNetdev | undefined;
    if (attr.progIfindex !== undefined && attr.progIfindex !== 0) {
      const { dev } = this.netdev(attr.progIfindex, `program ${name}`);
      if (dev.offloadOps === undefined) err('EOPNOTSUPP', `program ${name}: ${dev.name} cannot offload programs`);
      if (attr.progType !== BPF_PROG_TYPE.BPF_PROG_TYPE_XDP) err('EINVAL', `program ${name}: only XDP programs can be bound to a device`);
      offloadDev = dev;
    }

    // The fds the program names, as they are now (resolve_pseudo_ldimm64 takes its references here).
    const snap = new Map<number, BpfMap>();
    const used = new Set<GuestMap>();
    for (let pc = 0; pc < n; pc++) {
      const ins = insns[pc]!;
      if (ins.code !== 0x18) continue;
      if (ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD || ins.src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE) {
        const o = this.fds.get(ins.imm);
        if (o?.kind === 'map') {
          snap.set(ins.imm, o.obj.map);
          used.add(o.obj);
          // check_map_prog_compatibility: an offloaded map only with a program bound to its device.
          if (o.obj.offloadDev !== offloadDev) {
            err('EINVAL', `insn ${pc}: offload device mismatch between prog and map ${o.obj.spec.name}`, { insn: pc });
          }
        }
        // An fd that is not a map is left to the setup() hook and the verifier, which name it.
      }
      pc++;
    }
    const fds = new FdSnapshot(snap);
    const tag = ebpfProgTag(encodeInsns(insns));
    const state = { name, type: attr.progType, insns, license, gplCompatible, tag, fds, offloadDev };
    const devPriv = offloadDev?.offloadOps?.setup(state);
    const program: Program = {
      name, section: progTypeName(attr.progType), type: attr.progType as ProgType,
      insns, funcs: [], license, fds,
    };
    let verified;
    try {
      verified = verifyProgram(program, { logLevel: 0 });
    } catch (e) {
      offloadDev?.offloadOps?.destroy(devPriv);
      if (!(e instanceof VerifierError)) throw e;
      let log = e.log;
      try {
        verifyProgram(program, { logLevel: attr.logLevel ?? 1 });
      } catch (e1) {
        if (e1 instanceof VerifierError) log = e1.log;
      }
      err(guestErrnoCode(e.errno), `program ${name}: the verifier refused it: ${e.message}`, { log, insn: e.pc, cause: e });
    }
    for (const m of used) m.refs++;
    const obj: GuestProg = { ...state, id: this.nextProgId++, program, verified, maps: [...used], devPriv, refs: 1 };
    return this.addFd({ kind: 'prog', obj });
  }

  private progPut(p: GuestProg): void {
    if (--p.refs > 0) return;
    p.offloadDev?.offloadOps?.destroy(p.devPriv);
    for (const m of p.maps) this.mapPut(m);
  }

  /** Loads a clang object's program and the maps it uses (see object-loader.ts). */
  loadObject(src: string | Uint8Array, opts: LoadObjectOptions = {}): LoadedObject {
    return loadObject(this, src, opts);
  }

  /** loadObject bound to the device `ifindex`: maps and program offloaded. */
  loadObjectForOffload(src: string | Uint8Array, ifindex: number, opts: Omit<LoadObjectOptions, 'ifindex'> = {}): LoadedObject {
    return loadObject(this, src, { ...opts, ifindex });
  }

  // --- XDP attach ---------------------------------------------------------------------------

  /**
   * Attaches an XDP program (dev_xdp_attach): XDP_FLAGS_HW_MODE offloads it (a program bound to
   * the device), DRV_MODE or no mode runs it in the driver. Replaces the program of that mode
   * unless XDP_FLAGS_UPDATE_IF_NOEXIST.
   */
  xdpAttach(ifindex: number, progFd: number, flags = 0): void {
    const e = this.netdev(ifindex, 'xdp attach');
    const hw = this.mode(flags);
    const prog = this.prog(progFd);
    if (prog.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_XDP) err('EINVAL', `program ${prog.name} is not an XDP program`);
    if (!hw && prog.offloadDev !== undefined) err('EINVAL', 'Using device-bound program without HW_MODE flag is not supported');
    const old = hw ? e.hw : e.native;
    if (old !== null && flags & XDP_FLAGS.XDP_FLAGS_UPDATE_IF_NOEXIST) err('EBUSY', `${e.dev.name}: XDP program already attached`);
    e.dev.ndoBpf({ command: hw ? BPF_NETDEV_COMMAND.XDP_SETUP_PROG_HW : BPF_NETDEV_COMMAND.XDP_SETUP_PROG, prog, flags });
    prog.refs++;
    if (hw) e.hw = prog;
    else e.native = prog;
    if (old) this.progPut(old);
  }

  /** Detaches the program of the mode `flags` names; nothing attached is not an error (as the kernel). */
  xdpDetach(ifindex: number, flags = 0): void {
    const e = this.netdev(ifindex, 'xdp detach');
    const hw = this.mode(flags);
    const old = hw ? e.hw : e.native;
    if (old === null) return;
    e.dev.ndoBpf({ command: hw ? BPF_NETDEV_COMMAND.XDP_SETUP_PROG_HW : BPF_NETDEV_COMMAND.XDP_SETUP_PROG, prog: null, flags });
    if (hw) e.hw = null;
    else e.native = null;
    this.progPut(old);
  }

  /** XDP_QUERY_PROG / _HW: the attached programs. */
  xdpQuery(ifindex: number): { native: GuestProg | null; hw: GuestProg | null } {
    const e = this.netdev(ifindex, 'xdp query');
    return { native: e.native, hw: e.hw };
  }

  private mode(flags: number): boolean {
    const m = flags & XDP_FLAGS_MODES;
    if (m & (m - 1)) err('EINVAL', `XDP flags 0x${flags.toString(16)} name more than one mode`);
    if (m === XDP_FLAGS.XDP_FLAGS_SKB_MODE) err('EOPNOTSUPP', 'generic (SKB mode) XDP is not emulated');
    return m === XDP_FLAGS.XDP_FLAGS_HW_MODE;
  }
}
