// The ranges a run's numeric options must fall in, checked before any worker starts: a value a
// worker would refuse (pktgen's frame size, its flows) or one that would quietly misbehave (a
// window longer than a timer can wait, a capture buffer of terabytes) fails at once, with the
// range in the message, instead of as a worker failure after the start-up or never.
import { isEngineName } from '../../bpf-vm/engines.ts';
import { PKTGEN_LIMITS } from '../../host/net/pktgen.ts';
import { RunError } from './run-error.ts';

/** Node's timers wait at most 2^31-1 ms (24.8 days; longer ones fire at once): a day is plenty. */
const SECONDS_MAX = 86_400;

interface Limit {
  /** The command line's name, which messages use (the library's field is named beside it). */
  flag: string;
  min: number;
  max: number;
  integer: boolean;
  /** Whether `min` itself is excluded (a window of 0 s measures nothing). */
  minExclusive?: boolean;
  /** What the value means and why the range, for the message. */
  what: string;
}

export const RUN_LIMITS = {
  duration: { flag: '--duration', min: 0, minExclusive: true, max: SECONDS_MAX, integer: false, what: 'seconds of measured window' },
  warmup: { flag: '--warmup', min: 0, max: SECONDS_MAX, integer: false, what: 'seconds of traffic before the window' },
  vhostPollUs: { flag: '--vhost-poll-us', min: 0, max: 1_000_000, integer: true, what: 'microseconds vhost busy-polls, as QEMU\'s poll-us' },
  pktSize: { flag: '--pkt-size', min: PKTGEN_LIMITS.sizeMin, max: PKTGEN_LIMITS.sizeMax, integer: true, what: 'frame bytes without FCS, pktgen\'s pkt_size' },
  flows: { flag: '--flows', min: 1, max: PKTGEN_LIMITS.flowsMax, integer: true, what: 'flows pktgen cycles through, one 16-bit field\'s values' },
  ratePps: { flag: '--line-rate', min: 0, minExclusive: true, max: 1e12, integer: false, what: 'packets per second' },
  count: { flag: 'count', min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, what: 'packets pktgen sends in all, 0 for no limit' },
  /** Each captured frame takes a 2 KiB slot of shared memory, allocated before the run: 100,000 is 200 MiB. */
  pcapCount: { flag: '--pcap-count', min: 1, max: 100_000, integer: true, what: 'frames to capture, each a 2 KiB slot of memory reserved before the run' },
  repeat: { flag: '--repeat', min: 1, max: 100, integer: true, what: 'runs per cell' },
  queueSize: { flag: 'queueSize', min: 2, max: 1024, integer: true, what: 'rx/tx queue entries, a power of two as QEMU\'s rx_queue_size' },
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof RUN_LIMITS;

/** "an integer from 60 to 1514 (frame bytes without FCS, pktgen's pkt_size)". */
export function describeLimit(l: Limit): string {
  const from = l.minExclusive ? `above ${l.min}` : `from ${l.min}`;
  return `${l.integer ? 'an integer' : 'a number'} ${from} to ${l.max} (${l.what})`;
}

/** Throws RunError EINVAL unless `v` is in the option's range; undefined passes (the default applies). */
export function checkLimit(name: LimitName, v: number | undefined): void {
  if (v === undefined) return;
  const l: Limit = RUN_LIMITS[name];
  const ok = typeof v === 'number' && Number.isFinite(v) && (!l.integer || Number.isInteger(v)) &&
    (l.minExclusive ? v > l.min : v >= l.min) && v <= l.max;
  if (!ok) throw new RunError('EINVAL', `${l.flag} ${String(v)}: must be ${describeLimit(l)}`);
}

/** The traffic and timing options every run takes (vxo run and each run of vxo table). */
export interface TrafficLimits {
  duration?: number;
  warmup?: number;
  vhostPollUs?: number;
  engine?: string;
  ratePps?: number;
  pktSize?: number;
  flows?: number;
  count?: number;
  queueSize?: number;
}

export function checkTraffic(o: TrafficLimits): void {
  if (o.duration === undefined) throw new RunError('EINVAL', `--duration: required, ${describeLimit(RUN_LIMITS.duration)}`);
  for (const k of ['duration', 'warmup', 'vhostPollUs', 'ratePps', 'pktSize', 'flows', 'count', 'queueSize'] as const) checkLimit(k, o[k]);
  if (o.queueSize !== undefined && (o.queueSize & (o.queueSize - 1)) !== 0) {
    throw new RunError('EINVAL', `queueSize ${o.queueSize}: must be a power of two (${describeLimit(RUN_LIMITS.queueSize)})`);
  }
  if (o.engine !== undefined && !isEngineName(o.engine)) throw new RunError('EINVAL', `--engine ${o.engine}: jit or interp`);
}
