// How each explanation counter is named and printed. The runner may add counters beyond the six
// standard ones; those get a label derived from their key so they are never silently hidden.

import { formatPct, formatRate, formatSig } from './fmt.ts';
import { EXPLAIN_KEYS } from './types.ts';
import type { Explain } from './types.ts';

export type ExplainKey = (typeof EXPLAIN_KEYS)[number];

export interface ExplainLabel {
  /** Column header in the terminal table. */
  short: string;
  /** What it is, for the HTML table's header tooltip and legend. */
  long: string;
  /** A per-second rate gets SI suffixes; an average keeps its digits; a share prints as a percentage. */
  kind: 'rate' | 'avg' | 'pct';
}

export const EXPLAIN_LABEL: Readonly<Record<ExplainKey, ExplainLabel>> = {
  pkts_per_vhost_wakeup: { short: 'pkts/wake', long: 'packets per vhost wake-up', kind: 'avg' },
  vhost_wakeups_per_sec: { short: 'wakes/s', long: 'vhost thread wake-ups per second', kind: 'rate' },
  tap_batch_avg: { short: 'tap batch', long: 'frames per tap batch (tun_recvmsg / tun_xdp_xmit)', kind: 'avg' },
  copies_per_packet: { short: 'copies/pkt', long: 'packet copies per packet', kind: 'avg' },
  guest_interrupts_per_sec: { short: 'guest irq/s', long: 'guest interrupts per second', kind: 'rate' },
  ring_full_drops_per_sec: { short: 'ring-full/s', long: 'packets dropped on a full ring, per second', kind: 'rate' },
};

/** Labels of the extra keys the runner adds (explain.ts), where the generated ones would not say enough. */
const EXTRA_LABEL: Readonly<Record<string, ExplainLabel>> = {
  pkts_per_tap_wakeup: { short: 'pkts/queued work', long: 'packets per vhost work the tap queued (vhost_poll_queue)', kind: 'avg' },
  tap_notify_time_share: { short: 'host notifying', long: 'share of the host thread\'s time spent waking a sleeping vhost (the futex wake)', kind: 'pct' },
};

/** What each worker thread runs, for the CPU columns' descriptions. */
const THREAD_ROLE: Readonly<Record<string, string>> = {
  host: 'host thread (pktgen, the NIC and its XDP program, the bridge, the tap producer)',
  vhost: 'vhost worker (handle_rx/handle_tx, the tap consumer and its offloaded program)',
  guest: 'guest vCPU (virtio_net driver, native XDP)',
  qemu: 'QEMU thread (the device model, control queue)',
  main: 'the runner (main thread)',
};

function threadLabel(key: string): ExplainLabel | undefined {
  if (key === 'cpu_all') return { short: 'all', long: 'every thread of the process (V8 helpers too), in cores', kind: 'pct' };
  if (key === 'cpu_other') return { short: 'others', long: 'the rest of the machine (other processes, interrupts), in cores', kind: 'pct' };
  if (key === 'cpu_probe_ms') return { short: 'main ms', long: 'the CPU probe loop timed on the main thread just before the run, no worker running: more ms, a slower machine at the time', kind: 'avg' };
  if (key === 'cpu_steal') return { short: 'steal', long: 'steal time: the hypervisor ran something else on our virtual CPUs, in cores', kind: 'pct' };
  const cpu = /^cpu_(.+)$/.exec(key);
  if (cpu) return { short: cpu[1]!, long: `${THREAD_ROLE[cpu[1]!] ?? cpu[1]!}: share of one core`, kind: 'pct' };
  const probe = /^probe_us_(.+)$/.exec(key);
  if (probe) return { short: `${probe[1]!} us`, long: `${THREAD_ROLE[probe[1]!] ?? probe[1]!}: microseconds its CPU probe took (the same loop each time: more means a slower CPU under it)`, kind: 'avg' };
  const wait = /^runq_wait_(.+)$/.exec(key);
  if (wait) return { short: wait[1]!, long: `${THREAD_ROLE[wait[1]!] ?? wait[1]!}: share of the window runnable but waiting for a core`, kind: 'pct' };
  return undefined;
}

function isStandard(key: string): key is ExplainKey {
  return Object.hasOwn(EXPLAIN_LABEL, key);
}

export function explainLabel(key: string): ExplainLabel {
  if (isStandard(key)) return EXPLAIN_LABEL[key];
  const extra = EXTRA_LABEL[key] ?? threadLabel(key);
  if (extra !== undefined) return extra;
  const words = key.replace(/_per_sec$/, '/s').replaceAll('_', ' ');
  return { short: words, long: words, kind: key.endsWith('_per_sec') ? 'rate' : 'avg' };
}

export function formatExplain(key: string, value: number): string {
  const kind = explainLabel(key).kind;
  return kind === 'rate' ? formatRate(value) : kind === 'pct' ? formatPct(value) : formatSig(value);
}

/** The standard keys first, then any extra keys the cells carry, in first-seen order. */
export function explainKeys(explains: readonly Explain[]): string[] {
  const keys: string[] = [...EXPLAIN_KEYS];
  for (const e of explains) for (const k of Object.keys(e)) if (!keys.includes(k)) keys.push(k);
  return keys;
}
