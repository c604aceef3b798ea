// Asks the real kernel about a corpus case: raw instructions through test/support/bpf-load.c, C
// objects through bpftool (libbpf). Used by gen-kernel.ts and test/kernel/verifier-diff.test.ts.
import { kernelVerify, kernelVerifyInsns } from '../support/kernel.ts';
import { kernelErrorLines, type KernelInput } from './corpus.ts';

export interface KernelAnswer {
  accepted: boolean;
  /** errno name of a rejection. */
  errno?: string;
  /** The verifier's error lines (kernelErrorLines of its log). */
  lines: string[];
  /** The verifier's log (for objects: the part between libbpf's BEGIN/END PROG LOAD LOG markers). */
  log: string;
  processed?: number;
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM', 2: 'ENOENT', 7: 'E2BIG', 9: 'EBADF', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT',
  16: 'EBUSY', 22: 'EINVAL', 28: 'ENOSPC', 34: 'ERANGE', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP',
};

/** The verifier's own log out of bpftool -d output (libbpf frames it with BEGIN/END markers). */
export function verifierLogOf(bpftoolOutput: string): string {
  const begin = bpftoolOutput.lastIndexOf('-- BEGIN PROG LOAD LOG --');
  if (begin < 0) return '';
  const from = bpftoolOutput.indexOf('\n', begin) + 1;
  const end = bpftoolOutput.indexOf('-- END PROG LOAD LOG --', from);
  return bpftoolOutput.slice(from, end < 0 ? undefined : end);
}

export function askKernel(input: KernelInput): KernelAnswer {
  if (input.kind === 'insns') {
    const r = kernelVerifyInsns(input.insns, {
      progType: input.progType,
      maps: input.maps.map((m) => ({ type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, flags: m.flags })),
      logLevel: 1,
      noPerfmon: input.noPerfmon,
    });
    const out: KernelAnswer = { accepted: r.accepted, lines: r.accepted ? [] : kernelErrorLines(r.log), log: r.log };
    if (r.errno !== undefined) out.errno = r.errno;
    if (r.processed !== undefined) out.processed = r.processed;
    return out;
  }
  // quiet: a rejected program's log comes from libbpf's reload at log level 1, which is all
  // that is needed here and stays collectable when the verifier runs a million instructions.
  const r = kernelVerify(input.path, { noPerfmon: input.noPerfmon, quiet: true });
  const log = verifierLogOf(r.log);
  const out: KernelAnswer = { accepted: r.accepted, lines: [], log: log === '' ? r.log : log };
  if (!r.accepted) {
    out.lines = log === '' ? libbpfErrorLines(r.log) : kernelErrorLines(log);
    const m = /failed to load(?: object)?[^\n]*?: -(\d+)/.exec(r.log) ?? /load failed: .*?-(\d+)/.exec(r.log);
    if (m) out.errno = ERRNO_NAMES[Number(m[1])] ?? `E${m[1]}`;
  }
  if (r.processed !== undefined) out.processed = r.processed;
  return out;
}

/** When libbpf refused before the kernel said anything: its own error lines. */
function libbpfErrorLines(out: string): string[] {
  return out.split('\n').filter((l) => /^libbpf: .*(failed|error|invalid)/i.test(l) || /^Error: /.test(l));
}
