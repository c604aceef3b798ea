// SET_OFFLOAD's load step, the host half of the RFC's tap_fd_attach_ebpf: the device's own checks
// (size, helper allow list, map handles), the handles resolved to host maps, then the host
// verifier. What comes out is what the device attaches and hands to the tap's Tx path.
import {
  BPF_PROG_TYPE, BPF_PSEUDO_LD, decodeInsns, encodeInsns, FdTable, type BpfMap, type Insn, type Program, type SharedMapState,
} from '../../bpf-vm/index.ts';
import { VerifierError, verifyProgram, type VerifyResult } from '../../bpf-vm/verifier/index.ts';
import { ebpfProgTag, type EbpfProgCmd, type EbpfProgMeta } from '../../virtio/index.ts';
import { findRefusedCall } from './allow-list.ts';
import { errnoCode, OffloadError } from './errors.ts';
import type { HostMap, HostMapTable } from './map-table.ts';

/** One map an offloaded program references: its handle, its fd in `program.fds`, the map. */
export interface OffloadedMapRef {
  readonly handle: number;
  readonly fd: number;
  readonly map: BpfMap;
}

/**
 * Plain data for another worker (postMessage): the instructions with map references carrying
 * `maps[i].fd`, and each map's shared state. openOffloadedProgram turns it back into a Program.
 */
export type { OffloadedProgramTransfer } from '../../tun/index.ts';
import type { OffloadedProgramTransfer } from '../../tun/index.ts';

export interface OffloadedProgram {
  /** From the metadata trailer, or '' (the kernel's unnamed program). */
  readonly name: string;
  /** bpftool's tag of the instructions as the guest sent them (map handles zeroed). */
  readonly tag: string;
  readonly insnCount: number;
  readonly gplCompatible: boolean;
  /** Ready for XdpProgramRunner: host maps resolved through program.fds. */
  readonly program: Program;
  /** The host verifier's result (XdpRunnerOptions.verify takes it, to skip re-verifying). */
  readonly verified: VerifyResult;
  readonly maps: readonly OffloadedMapRef[];
  readonly allQueues: boolean;
  readonly meta: EbpfProgMeta | undefined;
  /** The host maps the program holds (FREE turns them into orphans, not gone). */
  readonly holds: ReadonlySet<HostMap>;
  transfer(): OffloadedProgramTransfer;
}

export interface LoadLimits {
  maxInsns: number;
  allowedHelpers: ReadonlySet<number>;
  allQueues: boolean;
  /** The host verifier's budget of processed instructions (the kernel's 1M by default). */
  verifierBudget: number | undefined;
}

function resolveMaps(insns: Insn[], table: HostMapTable): { refs: OffloadedMapRef[]; fds: FdTable; holds: Set<HostMap> } {
  const fds = new FdTable();
  const byHandle = new Map<number, OffloadedMapRef>();
  const holds = new Set<HostMap>();
  for (let pc = 0; pc < insns.length; pc++) {
    const ins = insns[pc]!;
    if (ins.code !== 0x18) continue;
    const src = ins.src;
    if (src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_LD.BPF_PSEUDO_MAP_VALUE) {
      const handle = ins.imm >>> 0;
      let ref = byHandle.get(handle);
      if (ref === undefined) {
        const hm = table.get(handle);
        if (hm === undefined) throw new OffloadError('EBADF', `insn ${pc}: map handle ${handle} is not a map of this device`);
        ref = { handle, fd: fds.add(hm.map), map: hm.map };
        byHandle.set(handle, ref);
        holds.add(hm);
      }
      // The host's own rewrite (the RFC's open item): handles become host fds only here.
      ins.imm = ref.fd;
    } else if (src !== BPF_PSEUDO_LD.NONE) {
      throw new OffloadError('EINVAL', `insn ${pc}: ld_imm64 with src_reg ${src} cannot be offloaded`);
    }
    pc++;
  }
  return { refs: [...byHandle.values()], fds, holds };
}

function verify(prog: Program, budget: number | undefined): VerifyResult {
  const opts = budget === undefined ? {} : { maxProcessed: budget };
  try {
    return verifyProgram(prog, { ...opts, logLevel: 0 });
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    // As libbpf does: load quietly, and only on a failure load again with a log to explain it.
    let log = e.log;
    try {
      verifyProgram(prog, { ...opts, logLevel: 1 });
    } catch (e1) {
      if (e1 instanceof VerifierError) log = e1.log;
    }
    throw new OffloadError(errnoCode(e.errno), `host verifier: ${e.message}`, { cause: e, log });
  }
}

/** Loads a SET_OFFLOAD command's program. Throws OffloadError; changes nothing on the host. */
export function loadOffloadedProgram(cmd: EbpfProgCmd, table: HostMapTable, limits: LoadLimits): OffloadedProgram {
  const n = cmd.insns.length / 8;
  if (n === 0) throw new OffloadError('EINVAL', 'SET_OFFLOAD without instructions');
  if (n > limits.maxInsns) throw new OffloadError('E2BIG', `program of ${n} insns, the device takes at most ${limits.maxInsns}`);
  if (cmd.gplCompatible > 1) throw new OffloadError('EINVAL', `gpl_compatible ${cmd.gplCompatible} is not 0 or 1`);
  const insns = decodeInsns(cmd.insns, 'offloaded program');
  const refused = findRefusedCall(insns, limits.allowedHelpers);
  if (refused) throw new OffloadError('EOPNOTSUPP', refused.reason);
  const tag = ebpfProgTag(cmd.insns);
  if (cmd.meta?.tag !== undefined && cmd.meta.tag !== tag) {
    throw new OffloadError('EINVAL', `metadata tag ${cmd.meta.tag} does not match the instructions (tag ${tag})`);
  }
  const { refs, fds, holds } = resolveMaps(insns, table);
  const gplCompatible = cmd.gplCompatible === 1;
  const name = cmd.meta?.name ?? '';
  const license = gplCompatible ? 'GPL' : (cmd.meta?.license ?? '');
  const program: Program = {
    name, section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, insns, funcs: [], license, fds,
  };
  const verified = verify(program, limits.verifierBudget);
  const allQueues = limits.allQueues;
  return {
    name, tag, insnCount: n, gplCompatible, program, verified, maps: refs, allQueues, meta: cmd.meta, holds,
    transfer: () => ({
      name, tag, license, insns: encodeInsns(insns), allQueues,
      maps: refs.map((r) => ({ fd: r.fd, handle: r.handle, share: r.map.share() })),
    }),
  };
}
