// What vhost_net needs from the tap it is bound to (VHOST_NET_SET_BACKEND): the socket ops it
// calls, tun_recvmsg and tun_sendmsg, and the frame memory the ring's pointers point into.

export interface TapSocket {
  /**
   * tun_recvmsg: consumes up to 64 entries of the tap's tx_ring, runs the offloaded Tx-path
   * program on each, and writes the handles of the XDP_PASS frames to `out`. Returns their count.
   */
  recvmsg(out: Uint32Array): number;
  /** True when the tap's ring has entries (vhost_net_rx_peek_head_len, for the re-check). */
  hasPending(): boolean;
  /** Frame memory: the pool's bytes and words; a handle's data lies at dataOffset, dataLen long. */
  readonly frameU8: Uint8Array;
  readonly frameI32: Int32Array;
  dataOffset(handle: number): number;
  dataLen(handle: number): number;
  /** A frame vhost has copied to the guest goes back to its pool. */
  free(handle: number): void;
  /** Publishes batched frees (once per batch). */
  flushFrees(): void;
  /**
   * tun_sendmsg: a packet from the guest (`len` bytes at `off` of `src`) into the tap's Rx path,
   * where the tap's own XDP program runs. The bytes are consumed before this returns.
   */
  sendmsg(src: Uint8Array, off: number, len: number): void;
  /**
   * The end of a batch of sendmsg calls (and of a recvmsg whose program bounced frames into the Rx
   * path): what the Rx path queued for the host becomes visible there, with one wake-up.
   */
  flushTx?(): void;
}
