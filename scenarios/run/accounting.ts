// Every packet accounted for at the end of a run (architecture.md): pktgen's frames (plus the
// bridge's flood copies) = what was dropped, by reason and place + what was delivered to a stack
// + what is still queued somewhere. Each term is a counter of the stage that owns the packet's
// fate, or a queue occupancy read after every producer stopped; none is derived from the others,
// so a packet lost or counted twice anywhere shows as an imbalance.

export interface Accounting {
  generated: number;
  accounted: number;
  balanced: boolean;
  dropped: Record<string, number>;
  delivered: Record<string, number>;
  queued: Record<string, number>;
}

export interface FinalState {
  counters: Record<string, number>;
  /** HostNet.conservation() terms (the host side's leaves, plus tap_enqueued). */
  hostTerms: Record<string, number>;
  hostClones: number;
  queued: Record<string, number>;
}

/** Host-side terms that are not a packet's end: they continue into the tap. */
const HOST_CONTINUES = new Set(['tap_enqueued']);
const HOST_DELIVERED = new Set(['nic_stack_delivered', 'nic_wire_tx']);
/** Host-side terms that are queue occupancies read at the end: in flight, not a packet's end. */
const HOST_QUEUED = new Set(['nic_bulk_queued', 'tc_backlog_queued']);

const GUEST_DROPS = ['guest_rx_drops', 'guest_rx_length_errors', 'guest_rx_xdp_drops', 'guest_rx_xdp_aborted', 'guest_rx_xdp_redirects', 'guest_tx_xdp_tx_drops'];
const TAP_DROPS = ['tap_tx_dropped', 'vhost_rx_too_big', 'vhost_tx_bad_chain', 'taprx_oversized', 'taprx_rx_dropped'];

export function account(s: FinalState): Accounting {
  const get = (k: string): number => s.counters[k] ?? 0;
  return balanceTerms(s, HOST_DELIVERED, [...TAP_DROPS, ...GUEST_DROPS], {
    guest_stack: get('guest_rx_packets'),
    host_stack_from_tap: get('taprx_rx_packets'),
  }, get('pktgen_generated') + s.hostClones);
}

/**
 * The balance both runners draw: the host's terms (those that continue into the tap left out)
 * as delivered or dropped, the named drop counters, the stacks' deliveries, what is queued;
 * balanced when that is what was generated.
 */
export function balanceTerms(
  s: { counters: Record<string, number>; hostTerms: Record<string, number>; queued: Record<string, number> },
  hostDelivered: ReadonlySet<string>,
  drops: readonly string[],
  stacks: Record<string, number>,
  generated: number,
): Accounting {
  const dropped: Record<string, number> = {};
  const delivered: Record<string, number> = {};
  const queued = { ...s.queued };
  for (const [k, v] of Object.entries(s.hostTerms)) {
    if (HOST_CONTINUES.has(k)) continue;
    (HOST_QUEUED.has(k) ? queued : hostDelivered.has(k) ? delivered : dropped)[`host_${k}`] = v;
  }
  for (const k of drops) dropped[k] = s.counters[k] ?? 0;
  Object.assign(delivered, stacks);
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const accounted = sum(dropped) + sum(delivered) + sum(queued);
  return { generated, accounted, balanced: generated === accounted, dropped, delivered, queued };
}
