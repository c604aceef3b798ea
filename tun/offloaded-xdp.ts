// TUNSETOFFLOADEDXDP's argument as it crosses from QEMU's thread to the tap's (vhost's): the
// instructions with map references as fds 3, 4, ... in order, and each map's shared state, so
// the tap runs the very maps QEMU created (no copy of map data). The tap reopens them here.
import { BPF_PROG_TYPE, BpfError, decodeInsns, FdTable, openSharedMap, type Program, type SharedMapState } from '../bpf-vm/index.ts';

export interface OffloadedProgramTransfer {
  name: string;
  tag: string;
  license: string;
  insns: Uint8Array;
  maps: { fd: number; handle: number; share: SharedMapState }[];
  /** Run on every tap queue, not just queue 0 (the RFC's choice). */
  allQueues: boolean;
}

export function openOffloadedProgram(t: OffloadedProgramTransfer): Program {
  const fds = new FdTable();
  for (const m of t.maps) {
    // FdTable numbers fds in insertion order; the sender's table was built the same way.
    const fd = fds.add(openSharedMap(m.share));
    if (fd !== m.fd) throw new BpfError('EINVAL', `offloaded program ${t.name}: map handle ${m.handle} expected at fd ${m.fd}, got ${fd}`);
  }
  return { name: t.name, section: 'xdp', type: BPF_PROG_TYPE.BPF_PROG_TYPE_XDP, insns: decodeInsns(t.insns), funcs: [], license: t.license, fds };
}
