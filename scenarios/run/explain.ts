// What explains a run's number, from its counters over the measured window: how often vhost woke
// and how much each wake-up carried, batch sizes, copies per packet, interrupt rates, drops at a
// full ring. The RFC's account of Case 1 vs Case 2 is about exactly these.

export interface RunExplain {
  vhost_wakeups_per_sec: number;
  pkts_per_vhost_wakeup: number;
  tap_batch_avg: number;
  xdp_xmit_batch_avg: number;
  copies_per_packet: number;
  guest_interrupts_per_sec: number;
  ring_full_drops_per_sec: number;
  tap_wake_attempts_per_sec: number;
  [k: string]: number;
}

export function explain(w: Record<string, number>, seconds: number, programPackets: number): RunExplain {
  const g = (k: string): number => w[k] ?? 0;
  const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);
  const wakeups = g('vhost_wakeups');
  return {
    vhost_wakeups_per_sec: ratio(wakeups, seconds),
    pkts_per_vhost_wakeup: ratio(g('tap_consumed'), wakeups),
    tap_batch_avg: ratio(g('tap_consumed'), g('tap_batches')),
    xdp_xmit_batch_avg: ratio(g('tapx_xdp_xmit_frames'), g('tapx_xdp_xmit_calls')),
    // vhost's copies into and out of the guest, and the tap's generic-XDP head expansions (Case 2 offload).
    copies_per_packet: ratio(g('vhost_rx_packets') + g('vhost_tx_packets') + g('tap_xdp_generic_expand'), programPackets),
    guest_interrupts_per_sec: ratio(g('vhost_guest_interrupts'), seconds),
    ring_full_drops_per_sec: ratio(g('tapx_drop_full_ring'), seconds),
    tap_wake_attempts_per_sec: ratio(g('tapx_wakeups') + g('tapx_wakeups_coalesced'), seconds),
    // The kernel's sense of a vhost wake-up: the tap queued vhost's work (vhost_poll_queue found it
    // not queued, test_and_set_bit). One per packet is the RFC's Case 2: the producer pays a
    // wake-up for every packet because vhost keeps up with it.
    pkts_per_tap_wakeup: ratio(g('tapx_tx_packets'), g('tapx_wakeups')),
    // The wake-ups that found vhost asleep: each a real futex wake, the cost the RFC's Case 2 pays per packet.
    tap_notifies_per_sec: ratio(g('tapx_wakeups_notified'), seconds),
    // What those wake-ups cost the host thread: its share of the window spent inside them.
    tap_notify_time_share: ratio(g('tapx_notify_us') / 1e6, seconds),
    generated_mpps: ratio(g('pktgen_generated'), seconds) / 1e6,
    vhost_sleeps_per_sec: ratio(g('vhost_sleeps'), seconds),
    // Each thread's CPU probe (virtio/cpu-probe.ts), mean microseconds: the same loop every
    // time, so more is a slower CPU under that thread. NaN: no probe ran in the window.
    probe_us_host: g('host_probe_us') / g('host_probes'),
    probe_us_vhost: g('vhost_probe_us') / g('vhost_probes'),
    probe_us_guest: g('guest_probe_us') / g('guest_probes'),
  };
}
