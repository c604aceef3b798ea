// The tap's counters as the vhost worker publishes them: flat numbers, prefixed by where they are
// counted (tap_ for the Tx path's recvmsg, taprx_ for the Rx path).
import type { TunSocket } from './tun-socket.ts';

export function tapCounters(sock: TunSocket): Record<string, number> {
  const out: Record<string, number> = {};
  flatten(out, 'tap_', sock.recv.stats() as unknown as Record<string, unknown>);
  flatten(out, 'taprx_', sock.rx.stats() as unknown as Record<string, unknown>);
  out['taprx_oversized'] = sock.tx_oversized;
  // The producer's half of the host backlog (the host worker publishes what it processed).
  const b = sock.rx.backlog;
  if (b) Object.assign(out, { backlog_enqueued: b.enqueued, backlog_enqueued_bytes: b.enqueued_bytes, backlog_dropped: b.dropped, backlog_too_big: b.too_big, backlog_flushes: b.flushes });
  return out;
}

function flatten(out: Record<string, number>, prefix: string, rec: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(rec)) {
    if (typeof v === 'number') out[prefix + k] = v;
    else if (Array.isArray(v) || ArrayBuffer.isView(v)) Array.from(v as ArrayLike<number>).forEach((x, i) => { out[`${prefix}${k}_${i}`] = x; });
  }
}
