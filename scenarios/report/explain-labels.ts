// How each explanation counter is named and printed. The runner may add counters beyond the six
// standard ones; those get a label derived from their key so they are never silently hidden.

import { formatRate, formatSig } from './fmt.ts';
import { EXPLAIN_KEYS } from './types.ts';
import type { Explain } from './types.ts';

export type ExplainKey = (typeof EXPLAIN_KEYS)[number];

export interface ExplainLabel {
  /** Column header in the terminal table. */
  short: string;
  /** What it is, for the HTML table's header tooltip and legend. */
  long: string;
  /** A per-second rate gets SI suffixes; an average keeps its digits. */
  kind: 'rate' | 'avg';
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
};

function isStandard(key: string): key is ExplainKey {
  return Object.hasOwn(EXPLAIN_LABEL, key);
}

export function explainLabel(key: string): ExplainLabel {
  if (isStandard(key)) return EXPLAIN_LABEL[key];
  const extra = EXTRA_LABEL[key];
  if (extra !== undefined) return extra;
  const words = key.replace(/_per_sec$/, '/s').replaceAll('_', ' ');
  return { short: words, long: words, kind: key.endsWith('_per_sec') ? 'rate' : 'avg' };
}

export function formatExplain(key: string, value: number): string {
  return explainLabel(key).kind === 'rate' ? formatRate(value) : formatSig(value);
}

/** The standard keys first, then any extra keys the cells carry, in first-seen order. */
export function explainKeys(explains: readonly Explain[]): string[] {
  const keys: string[] = [...EXPLAIN_KEYS];
  for (const e of explains) for (const k of Object.keys(e)) if (!keys.includes(k)) keys.push(k);
  return keys;
}
