// What libbpf does for `bpftool prog load x.o ... dev eth0` (or for a plain load): read the
// object, create the maps the chosen program uses (offloaded to the device when an ifindex is
// given, with the object's map specs and BTF type names), fill global data, point the program's
// map references at the new fds, and load the program through GuestBpf.
import { readFileSync } from 'node:fs';
import { BpfError, BPF_PSEUDO_LD, parseElf, type CollectionSpec, type ProgramSpec } from '../../bpf-vm/index.ts';
import { bpfObjName } from '../../virtio/index.ts';
import { GuestBpfError, guestErrnoCode } from './errors.ts';
import type { GuestBpf } from './guest-bpf.ts';
import type { GuestProg } from './objects.ts';

export interface LoadObjectOptions {
  /** The program to load, by function or section name (default: the first). */
  program?: string;
  /** Offload maps and program to this device (0 or absent: load for the guest). */
  ifindex?: number;
}

export interface LoadedObject {
  progFd: number;
  prog: GuestProg;
  /** The maps created for the program, by their name in the object; the caller owns these fds. */
  maps: ReadonlyMap<string, number>;
}

function pick(spec: CollectionSpec, name: string | undefined): ProgramSpec {
  const p = name === undefined ? spec.programs[0] : spec.programs.find((x) => x.name === name || x.section === name);
  if (p === undefined) {
    throw new GuestBpfError('ENOENT', name === undefined ? 'the object has no programs' : `no program or section named '${name}' in the object`);
  }
  return p;
}

export function loadObject(bpf: GuestBpf, src: string | Uint8Array, opts: LoadObjectOptions = {}): LoadedObject {
  let spec: CollectionSpec;
  try {
    spec = parseElf(typeof src === 'string' ? readFileSync(src) : src, typeof src === 'string' ? src : undefined);
  } catch (e) {
    if (e instanceof BpfError) throw new GuestBpfError(guestErrnoCode(e.errno), e.message, { cause: e });
    if (typeof src === 'string') throw new GuestBpfError('ENOENT', `cannot read ${src}: ${(e as Error).message}`, { cause: e });
    throw e;
  }
  const ps = pick(spec, opts.program);
  const ifindex = opts.ifindex ?? 0;
  const maps = new Map<string, number>();
  try {
    for (const ref of ps.references) {
      if (maps.has(ref.map)) continue;
      const ms = spec.maps.find((m) => m.name === ref.map);
      if (ms === undefined) throw new GuestBpfError('EINVAL', `${ps.name}: insn ${ref.insn} references unknown map '${ref.map}'`);
      const fd = bpf.mapCreate({
        mapType: ms.type, keySize: ms.keySize, valueSize: ms.valueSize, maxEntries: ms.maxEntries, mapFlags: ms.flags,
        mapName: bpfObjName(ms.name), mapIfindex: ifindex, ...(ms.btf ? { btf: ms.btf } : {}),
      });
      maps.set(ref.map, fd);
      // Global data (.data/.rodata/.bss): element 0 holds the section's initial bytes.
      if (ms.initialValue !== undefined) {
        const v = new Uint8Array(ms.valueSize);
        v.set(ms.initialValue);
        bpf.mapUpdateElem(fd, new Uint8Array(4), v);
      }
    }
    const insns = ps.insns.map((i) => ({ ...i }));
    for (const ref of ps.references) {
      const first = insns[ref.insn], second = insns[ref.insn + 1];
      if (first === undefined || second === undefined || first.code !== 0x18) {
        throw new GuestBpfError('EINVAL', `${ps.name}: map reference at insn ${ref.insn} is not an ld_imm64`);
      }
      first.src = ref.kind === 'map' ? BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD : BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE;
      first.imm = maps.get(ref.map)!;
      second.imm = ref.kind === 'map' ? 0 : ref.offset;
    }
    const progFd = bpf.progLoad({
      progType: ps.type, insns, license: ps.license, progName: bpfObjName(ps.name), progIfindex: ifindex,
    });
    return { progFd, prog: bpf.prog(progFd), maps };
  } catch (e) {
    for (const fd of maps.values()) bpf.close(fd);
    throw e;
  }
}

/** loadObject bound to a device: `bpftool prog load x.o pin ... dev <netdev>`. */
export function loadObjectForOffload(bpf: GuestBpf, src: string | Uint8Array, ifindex: number, opts: Omit<LoadObjectOptions, 'ifindex'> = {}): LoadedObject {
  return loadObject(bpf, src, { ...opts, ifindex });
}
