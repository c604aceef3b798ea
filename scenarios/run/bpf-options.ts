// BPF in the network scenarios (vxo run flood | netperf): programs attached to either machine's
// stack by object and section (tc ingress/egress, SK_LOOKUP, a socket filter on the application's
// socket, the dispatcher), native XDP on the guest's virtio_net (or offload, falling back to native
// when the device refuses it), extra routes; and what the run reports back: `bpftool net` of each
// machine and the maps, as `bpftool map dump` shows them.
import { existsSync } from 'node:fs';
import { openSharedMap, type SharedMapState } from '../../bpf-vm/index.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import { mapTypeName } from '../../bpf-vm/maps/names.ts';
import type { BpfAttachReport, BpfAttachSpec } from '../stack/bpf-attach.ts';
import type { StackSetupData } from '../stack/setup-data.ts';
import type { HostTcReport, HostTcSpec } from '../../host/net/tc-attach.ts';
import { hostTcMapDump, hostTcShowText } from '../../host/net/tc-show.ts';
import { RunError } from './run-error.ts';

export interface GuestXdpOption {
  object: string;
  section?: string;
  /** native (the driver runs it, with the guest's sockets) or offload (the host runs it). */
  mode?: 'native' | 'offload';
  /** With offload: run it natively when the device refuses it (EOPNOTSUPP). */
  fallbackNative?: boolean;
}

export interface ScenarioBpf {
  guest?: BpfAttachSpec[];
  host?: BpfAttachSpec[];
  guestXdp?: GuestXdpOption;
  /** tc on the host's own devices (the NIC and the tap: host/net), run by the host worker. */
  hostTc?: HostTcSpec[];
  /** Routes per machine (StackSetupData.routes). */
  guestRoutes?: StackSetupData['routes'];
  hostRoutes?: StackSetupData['routes'];
  engine?: 'interp' | 'jit';
}

export interface ScenarioBpfReport {
  guest?: BpfAttachReport;
  host?: BpfAttachReport;
  /** tc on the host's NIC and tap: `bpftool net` lines, per-hook counters, the maps. */
  host_tc?: { net: string; hooks: HostTcReport['hooks']; maps: BpfAttachReport['maps'] };
  guest_xdp?: {
    object: string;
    mode: 'native' | 'offload';
    /** The device's refusal, when offload fell back to native. */
    offload_refused?: string;
    maps: BpfAttachReport['maps'];
  };
}

/** Bad options fail before any worker starts. */
export function checkScenarioBpf(b: ScenarioBpf | undefined): void {
  if (b === undefined) return;
  const objects = [...(b.guest ?? []), ...(b.host ?? []), ...(b.hostTc ?? [])].flatMap((s) => ('object' in s ? [s.object] : []));
  if (b.guestXdp !== undefined) objects.push(b.guestXdp.object);
  for (const o of objects) if (!existsSync(o)) throw new RunError('EINVAL', `BPF object ${o}: no such file`);
  if (b.host?.some((s) => s.kind === 'dispatcher')) throw new RunError('EINVAL', 'the dispatcher runs on the guest');
}

/** The setup data of one machine with its attachments and routes. */
export function withBpf(d: Omit<StackSetupData, 'report'>, machine: 'guest' | 'host', b: ScenarioBpf | undefined): Omit<StackSetupData, 'report'> {
  if (b === undefined) return d;
  const specs = machine === 'guest' ? b.guest : b.host;
  const routes = machine === 'guest' ? b.guestRoutes : b.hostRoutes;
  return {
    ...d,
    ...(specs !== undefined ? { bpf: specs } : {}),
    ...(routes !== undefined ? { routes } : {}),
    ...(b.engine !== undefined ? { bpfEngine: b.engine } : {}),
  };
}

/** The guest worker's xdp data for the option. */
export function guestXdpWorkerData(b: ScenarioBpf | undefined): Record<string, unknown> | undefined {
  const x = b?.guestXdp;
  if (x === undefined) return undefined;
  return {
    xdp: {
      object: x.object, ...(x.section !== undefined ? { program: x.section } : {}), mode: x.mode ?? 'native',
      ...(x.fallbackNative ? { fallbackNative: true } : {}), ...(b?.engine !== undefined ? { engine: b.engine } : {}),
    },
  };
}

/** The run's BPF report: each stack's, and the guest's native XDP maps from its ready message. */
export function scenarioBpfReport(
  b: ScenarioBpf | undefined,
  stacks: { guest?: { bpf?: BpfAttachReport }; host?: { bpf?: BpfAttachReport } },
  guestReady: Record<string, unknown> | undefined,
): ScenarioBpfReport | undefined {
  if (b === undefined) return undefined;
  const out: ScenarioBpfReport = {};
  if (stacks.guest?.bpf !== undefined) out.guest = stacks.guest.bpf;
  if (stacks.host?.bpf !== undefined) out.host = stacks.host.bpf;
  if (b.guestXdp !== undefined) {
    const shares = (guestReady?.['maps'] ?? {}) as Record<string, SharedMapState>;
    const maps: BpfAttachReport['maps'] = {};
    for (const [name, st] of Object.entries(shares)) {
      const m = openSharedMap(st);
      maps[name] = { type: mapTypeName(m.spec.type), entries: dumpMap(m).map((e) => ({ key: toHex(e.key), value: toHex(e.value) })) };
    }
    const refused = guestReady?.['offloadRefused'];
    out.guest_xdp = {
      object: b.guestXdp.object, mode: typeof refused === 'string' ? 'native' : (b.guestXdp.mode ?? 'native'),
      ...(typeof refused === 'string' ? { offload_refused: refused } : {}), maps,
    };
  }
  return out;
}

/** The report's text: `bpftool net` per machine, then the maps. */
export function scenarioBpfText(r: ScenarioBpfReport): string {
  const lines: string[] = [];
  const maps = (m: BpfAttachReport['maps']): void => {
    for (const [name, d] of Object.entries(m)) {
      lines.push(`  map ${name} (${d.type}): ${d.entries.length} entr${d.entries.length === 1 ? 'y' : 'ies'}`);
      for (const e of d.entries.slice(0, 16)) lines.push(`    key: ${e.key}  value: ${e.value}`);
      if (d.entries.length > 16) lines.push(`    ... ${d.entries.length - 16} more`);
    }
  };
  if (r.guest_xdp !== undefined) {
    lines.push(`guest xdp: ${r.guest_xdp.object} (${r.guest_xdp.mode})`);
    if (r.guest_xdp.offload_refused !== undefined) lines.push(`  offload refused: ${r.guest_xdp.offload_refused}; running native`);
    maps(r.guest_xdp.maps);
  }
  if (r.host_tc !== undefined) {
    lines.push('host tc (NIC and tap):');
    for (const l of r.host_tc.net.trimEnd().split('\n')) lines.push(l === '' ? '' : `  ${l}`);
    for (const h of r.host_tc.hooks) {
      lines.push(`  ${h.dev} ${h.direction}: ${h.packets} packets, ${h.shot} shot, ${h.stolen} stolen, ${h.redirect} redirected (${h.redirect_err} failed), ${h.faults} faults`);
    }
    maps(r.host_tc.maps);
  }
  for (const m of ['guest', 'host'] as const) {
    const b = r[m];
    if (b === undefined) continue;
    lines.push(`${m} bpftool net:`);
    for (const l of b.net.trimEnd().split('\n')) lines.push(l === '' ? '' : `  ${l}`);
    maps(b.maps);
    const d = b.dispatcher;
    if (d !== undefined) {
      lines.push('  dispatcher bindings:', ...d.bindings.map((x) => `    ${x}`));
      lines.push('  dispatcher destinations:');
      for (const x of d.destinations) {
        lines.push(`    ${x.label} ${x.protocol}${x.family} (id ${x.id}): socket ${x.cookie === null ? 'none' : `cookie ${x.cookie}`}, lookups ${x.lookups}, missing socket ${x.missing_socket}, bad socket ${x.bad_socket}`);
      }
      lines.push(`  dispatcher metrics: ${Object.entries(d.metrics).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
  }
  return lines.join('\n');
}

/** The runner's extra worker data (captures) with the guest's XDP added. */
export function workerDataWith<T extends { guest?: Record<string, unknown>; host?: Record<string, unknown> }>(
  wd: T | undefined, b: ScenarioBpf | undefined,
): { workerData?: T & { qemu?: Record<string, unknown> } } {
  const xdp = guestXdpWorkerData(b);
  const tc = b?.hostTc !== undefined && b.hostTc.length > 0 ? b.hostTc.map((s) => ({ ...s, ...(b.engine !== undefined ? { engine: b.engine } : {}) })) : undefined;
  if (xdp === undefined && tc === undefined) return wd !== undefined ? { workerData: wd } : {};
  // Offload needs QEMU's side of the device (the offload feature bits, the host's program table).
  const qemu = b?.guestXdp?.mode === 'offload' ? { qemu: { offload: {} } } : {};
  return {
    workerData: {
      ...(wd ?? {}),
      ...(xdp !== undefined ? { guest: { ...(wd?.guest ?? {}), ...xdp } } : {}),
      ...(tc !== undefined ? { host: { ...(wd?.host ?? {}), tc } } : {}),
      ...qemu,
    } as T & { qemu?: Record<string, unknown> },
  };
}

/** The result's `bpf` field, when the run attached anything. */
export function bpfReport(
  b: ScenarioBpf | undefined,
  r: { stacks: { guest?: { bpf?: BpfAttachReport }; host?: { bpf?: BpfAttachReport } }; guestReady: Record<string, unknown> | undefined; hostTc?: unknown },
): { bpf?: ScenarioBpfReport } {
  const rep = scenarioBpfReport(b, r.stacks, r.guestReady);
  if (rep === undefined) return {};
  const tc = r.hostTc as HostTcReport | undefined;
  if (tc !== undefined) rep.host_tc = { net: hostTcShowText(tc), hooks: tc.hooks, maps: hostTcMapDump(tc) };
  return { bpf: rep };
}
