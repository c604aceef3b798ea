// How handle_rx reads the tap (the offload RFC's netperf table compares the two; offload-rfc.md,
// sockets.md §8):
// - 'ptr_ring' (before the RFC, mainline drivers/vhost/net.c): vhost_net holds the tap's tx_ring
//   itself (tun_get_tx_ring at VHOST_NET_SET_BACKEND). vhost_net_rx_peek_head_len refills vhost's
//   own buffer from the ring (vhost_net_buf_produce: ptr_ring_consume_batched, up to
//   VHOST_NET_BATCH), peeks the head's length from it, and hands each pointer back to the tap's
//   recvmsg as msg_control (tun_do_read with a ptr: tun_put_user copies it into the guest's
//   buffers and frees it). No Tx-path program exists on this path.
// - 'tap_recvmsg' (patches 5-6 of the RFC, "vhost_net: user tap recvmsg api to access ptr ring",
//   "tuntap: remove usage of ptr ring in vhost_net"): vhost no longer touches the ring; the batch
//   comes from the tap's recvmsg, which is where the offloaded program runs, and vhost copies
//   what passed (offload-rfc.md, "Host data path").

export const VHOST_RX_PATHS = ['ptr_ring', 'tap_recvmsg'] as const;
export type VhostRxPath = (typeof VHOST_RX_PATHS)[number];

/** vxo's default: the RFC's path (the offload needs it). */
export const VHOST_RX_PATH_DEFAULT: VhostRxPath = 'tap_recvmsg';

/** The path as the vhost worker publishes it (counter vhost_rx_path), so a run's counters say which one ran. */
export const VHOST_RX_PATH_CODE = { ptr_ring: 1, tap_recvmsg: 2 } as const satisfies Record<VhostRxPath, number>;

export function isVhostRxPath(x: unknown): x is VhostRxPath {
  return typeof x === 'string' && (VHOST_RX_PATHS as readonly string[]).includes(x);
}

/** The path a VHOST_RX_PATH_CODE names (undefined for 0 or an unknown code). */
export function vhostRxPathOf(code: number | undefined): VhostRxPath | undefined {
  for (const p of VHOST_RX_PATHS) if (VHOST_RX_PATH_CODE[p] === code) return p;
  return undefined;
}
