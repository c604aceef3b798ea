// Map file descriptors, as a process's fd table holds them: programs name maps by fd in their
// ld_imm64 instructions (BPF_PSEUDO_MAP_FD) until load resolves them.
import { BpfError } from '../errors.ts';
import type { BpfMap } from '../maps/map.ts';
import type { Program } from './program.ts';

export class FdTable {
  private readonly byFd = new Map<number, BpfMap>();
  /** Program fds (what a PROG_ARRAY slot holds), numbered with the maps' as the kernel's. */
  private readonly progs = new Map<number, Program>();
  // 0..2 are stdin/stdout/stderr in a real process; keep fds looking like the kernel's.
  private next = 3;

  add(map: BpfMap): number {
    const fd = this.next++;
    this.byFd.set(fd, map);
    return fd;
  }

  addProgram(prog: Program): number {
    const fd = this.next++;
    this.progs.set(fd, prog);
    return fd;
  }

  getProgram(fd: number): Program | undefined {
    return this.progs.get(fd);
  }

  /** The fd of a program added with addProgram, or undefined. */
  programFd(prog: Program): number | undefined {
    for (const [fd, p] of this.progs) if (p === prog) return fd;
    return undefined;
  }

  get(fd: number): BpfMap | undefined {
    return this.byFd.get(fd);
  }

  /** Like get, but an unknown fd is the kernel's EBADF with its message. */
  mustGet(fd: number): BpfMap {
    const m = this.byFd.get(fd);
    if (m === undefined) throw new BpfError('EBADF', `fd ${fd} is not pointing to valid bpf_map`);
    return m;
  }

  close(fd: number): boolean {
    return this.byFd.delete(fd) || this.progs.delete(fd);
  }

  entries(): IterableIterator<[number, BpfMap]> {
    return this.byFd.entries();
  }
}
