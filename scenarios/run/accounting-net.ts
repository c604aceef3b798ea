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
import { balanceTerms, type Accounting } from './accounting.ts';

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

const HOST_DELIVERED = new Set(['nic_stack_delivered', 'nic_wire_tx', 'host_stack_delivered', 'tap_rx_delivered']);

/** Towards the guest, after the tap ring. */
const TO_GUEST_DROPS = ['tap_tx_dropped', 'vhost_rx_too_big', 'guest_rx_drops', 'guest_rx_length_errors', 'guest_rx_xdp_drops', 'guest_rx_xdp_aborted', 'guest_rx_xdp_redirects'];
/** From the guest, before the host's backlog hands them to the bridge. */
const FROM_GUEST_DROPS = ['vhost_tx_bad_chain', 'vhost_tx_bad_hdr', 'taprx_oversized', 'taprx_rx_dropped', 'backlog_dropped', 'backlog_too_big'];

export function accountMachines(s: MachinesFinalState): Accounting {
  const get = (k: string): number => s.counters[k] ?? 0;
  return balanceTerms(s, HOST_DELIVERED, [...TO_GUEST_DROPS, ...FROM_GUEST_DROPS], { guest_stack: get('guest_rx_packets') },
    get('pktgen_generated') + s.hostClones + s.hostFromStack + get('guest_tx_skb'));
}
