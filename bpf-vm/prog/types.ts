// enum bpf_prog_type (uapi bpf.h) and libbpf's section-name conventions.

export const BPF_PROG_TYPE = {
  BPF_PROG_TYPE_UNSPEC: 0,
  BPF_PROG_TYPE_SOCKET_FILTER: 1,
  BPF_PROG_TYPE_KPROBE: 2,
  BPF_PROG_TYPE_SCHED_CLS: 3,
  BPF_PROG_TYPE_SCHED_ACT: 4,
  BPF_PROG_TYPE_TRACEPOINT: 5,
  BPF_PROG_TYPE_XDP: 6,
  BPF_PROG_TYPE_PERF_EVENT: 7,
  BPF_PROG_TYPE_CGROUP_SKB: 8,
  BPF_PROG_TYPE_SK_SKB: 14,
  BPF_PROG_TYPE_SK_MSG: 16,
  BPF_PROG_TYPE_RAW_TRACEPOINT: 17,
  BPF_PROG_TYPE_SK_LOOKUP: 30,
} as const;

export type ProgType = (typeof BPF_PROG_TYPE)[keyof typeof BPF_PROG_TYPE];

// As libbpf's section definitions: the name itself or the name followed by '/'.
const SECTION_PREFIXES: readonly [string, ProgType][] = [
  ['xdp.frags', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP],
  ['xdp', BPF_PROG_TYPE.BPF_PROG_TYPE_XDP],
  ['classifier', BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS],
  ['tcx', BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS],
  ['tc', BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS],
  ['action', BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT],
  ['socket', BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER],
  ['sk_lookup', BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP],
  ['kprobe', BPF_PROG_TYPE.BPF_PROG_TYPE_KPROBE],
  ['tracepoint', BPF_PROG_TYPE.BPF_PROG_TYPE_TRACEPOINT],
  ['raw_tracepoint', BPF_PROG_TYPE.BPF_PROG_TYPE_RAW_TRACEPOINT],
  ['perf_event', BPF_PROG_TYPE.BPF_PROG_TYPE_PERF_EVENT],
];

/** The program type libbpf would infer from a section name, or UNSPEC. */
export function progTypeFromSection(section: string): ProgType {
  for (const [prefix, type] of SECTION_PREFIXES) {
    if (section === prefix || section.startsWith(`${prefix}/`)) {
      return type;
    }
  }
  return BPF_PROG_TYPE.BPF_PROG_TYPE_UNSPEC;
}

export function progTypeName(type: number): string {
  const e = Object.entries(BPF_PROG_TYPE).find(([, v]) => v === type);
  return e ? e[0].replace('BPF_PROG_TYPE_', '').toLowerCase() : `type${type}`;
}
