// The host worker's tc report as the runner shows it (any thread: it opens the shared maps):
// `bpftool net`'s tc lines for the host's devices, and `bpftool map dump` of the objects' maps in
// the same shape as the guest's (scenarios/stack/bpf-attach.ts's BpfAttachReport.maps).
import { toHex } from '../../bpf-vm/hex.ts';
import { openSharedMap } from '../../bpf-vm/maps/create.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import { mapTypeName } from '../../bpf-vm/maps/names.ts';
import type { HostTcReport } from './tc-attach.ts';

export type HostTcMapDump = Record<string, { type: string; entries: { key: string; value: string }[] }>;

/** `bpftool net`'s tc section for the host's devices: "eth0(2) clsact/ingress host_tc.o:[tc] id 7", in run order. */
export function hostTcShowText(r: HostTcReport): string {
  const lines = ['tc:'];
  for (const h of r.hooks) for (const f of h.filters) lines.push(`${h.dev}(${h.ifindex}) clsact/${h.direction} ${f.name} id ${f.id}`);
  return `${lines.join('\n')}\n`;
}

/** `bpftool map dump` of every map in the report: entries as hex. */
export function hostTcMapDump(r: HostTcReport): HostTcMapDump {
  const out: HostTcMapDump = {};
  for (const [name, state] of Object.entries(r.maps)) {
    const m = openSharedMap(state);
    out[name] = { type: mapTypeName(m.spec.type), entries: dumpMap(m).map((e) => ({ key: toHex(e.key), value: toHex(e.value) })) };
  }
  return out;
}
