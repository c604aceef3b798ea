// The dispatcher program's counters (scenarios/sk/README.md): the `metrics` ARRAY's slots and the
// per-destination `dest_metrics` records, read as user space reads them (u64, little-endian).
import type { BpfMap } from '../../bpf-vm/maps/map.ts';

/** dispatch.c's metrics slots in order. */
export const METRIC_NAMES = [
  'lookups', 'no_binding', 'missing_socket', 'assigned', 'err_einval', 'err_esocktnosupport',
  'err_eprototype', 'err_eafnosupport', 'err_eexist', 'err_other', 'bad_destination',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type DispatchMetrics = Record<MetricName, number>;

export interface DestMetrics {
  lookups: number;
  missing_socket: number;
  bad_socket: number;
}

function u64At(v: Uint8Array | undefined, off: number): number {
  if (v === undefined || v.length < off + 8) return 0;
  return Number(new DataView(v.buffer, v.byteOffset).getBigUint64(off, true));
}

function key(i: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, i, true);
  return k;
}

export function readMetrics(m: BpfMap): DispatchMetrics {
  const out = {} as DispatchMetrics;
  METRIC_NAMES.forEach((n, i) => { out[n] = u64At(m.lookup(key(i)), 0); });
  return out;
}

export function readDestMetrics(m: BpfMap, id: number): DestMetrics {
  const v = m.lookup(key(id));
  return { lookups: u64At(v, 0), missing_socket: u64At(v, 8), bad_socket: u64At(v, 16) };
}

/** lookups = no_binding + missing_socket + assigned + errors + bad_destination (the README's identity). */
export function metricsBalanced(m: DispatchMetrics): boolean {
  const errors = m.err_einval + m.err_esocktnosupport + m.err_eprototype + m.err_eafnosupport + m.err_eexist + m.err_other;
  return m.lookups === m.no_binding + m.missing_socket + m.assigned + errors + m.bad_destination;
}
