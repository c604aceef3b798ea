// Every frame of a two-stack run accounted for, both ways (architecture.md's rule, extended to
// traffic the machines' stacks originate). Sources: pktgen's frames (and the bridge's flood
// copies), what the host stack sent on br0, what the guest stack put on its tx ring. Ends: each
// stage that owns a frame's fate counts it (dropped by reason and place, delivered to a stack or
// out of the NIC), or it is still queued when every producer has stopped. None is derived from
// another, so a frame lost or counted twice anywhere shows as an imbalance.
//
// Host to guest: pktgen/br0 -> bridge -> tap ring -> vhost handle_rx -> guest rx -> guest stack.
// Guest to host: guest stack -> tx ring -> vhost handle_tx -> tap Rx path -> host backlog -> the
// host's bridge (whose terms, from HostNet.conservation, include what came from the tap).
import type { Accounting } from './accounting.ts';

export type { Accounting };

export interface MachinesFinalState {
  counters: Record<string, number>;
  /** HostNet.conservation() terms. */
  hostTerms: Record<string, number>;
  hostClones: number;
  /** Frames the host stack handed to the bridge (br0's transmits). */
  hostFromStack: number;
  queued: Record<string, number>;
}

/** Host-side terms that are not an end: they continue into the tap ring. */
const HOST_CONTINUES = new Set(['tap_enqueued']);
const HOST_DELIVERED = new Set(['nic_stack_delivered', 'nic_wire_tx', 'host_stack_delivered', 'tap_rx_delivered']);

/** Towards the guest, after the tap ring. */
const TO_GUEST_DROPS = ['tap_tx_dropped', 'vhost_rx_too_big', 'guest_rx_drops', 'guest_rx_length_errors', 'guest_rx_xdp_drops', 'guest_rx_xdp_aborted', 'guest_rx_xdp_redirects'];
/** From the guest, before the host's backlog hands them to the bridge. */
const FROM_GUEST_DROPS = ['vhost_tx_bad_chain', 'vhost_tx_bad_hdr', 'taprx_oversized', 'taprx_rx_dropped', 'backlog_dropped', 'backlog_too_big'];

export function accountMachines(s: MachinesFinalState): Accounting {
  const c = s.counters;
  const get = (k: string): number => c[k] ?? 0;
  const dropped: Record<string, number> = {};
  const delivered: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.hostTerms)) {
    if (HOST_CONTINUES.has(k)) continue;
    (HOST_DELIVERED.has(k) ? delivered : dropped)[`host_${k}`] = v;
  }
  for (const k of [...TO_GUEST_DROPS, ...FROM_GUEST_DROPS]) dropped[k] = get(k);
  delivered['guest_stack'] = get('guest_rx_packets');
  const queued = { ...s.queued };
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const accounted = sum(dropped) + sum(delivered) + sum(queued);
  const generated = get('pktgen_generated') + s.hostClones + s.hostFromStack + get('guest_tx_skb');
  return { generated, accounted, balanced: generated === accounted, dropped, delivered, queued };
}
