// What vhost_net needs from the tap it is bound to (VHOST_NET_SET_BACKEND): the socket ops it
// calls, tun_recvmsg and tun_sendmsg, and the frame memory the ring's pointers point into.
import type { PtrRing } from '../tun/index.ts';

/** What vhost_net uses of the tap's ring on the path before the RFC (the consumer side only). */
export type PtrRingConsumer = Pick<PtrRing, 'consumeBatched'>;

/** The iov_iter over the guest's rx buffers that tun_put_user writes into. */
export interface RxIovIter {
  /** Writes the virtio_net_hdr and `len` frame bytes from the frame memory at `src`; returns the used length, 0 when it does not fit. */
  writeFrame(src: number, len: number): number;
}

export interface TapSocket {
  /**
   * tun_recvmsg: consumes up to 64 entries of the tap's tx_ring, runs the offloaded Tx-path
   * program on each, and writes the handles of the XDP_PASS frames to `out`. Returns their count.
   */
  recvmsg(out: Uint32Array): number;
  /**
   * The path before the RFC: the tap's tx_ring itself (tun_get_tx_ring), which vhost_net consumes
   * in batches into its own buffer (vhost_net_buf_produce).
   */
  txRing(): PtrRingConsumer;
  /** vhost_net_buf_peek_len: the length of a frame vhost holds (xdp_frame->len or skb->len). */
  peekLen(handle: number): number;
  /**
   * tun_recvmsg with the frame as msg_control (tun_do_read with a ptr): the tap puts the frame to
   * user, i.e. writes it through `to` (the guest's buffers), counts it and frees it. Returns what
   * `to` wrote (0: the buffers were too small, the frame is dropped as truncated).
   */
  recvmsgPtr(handle: number, to: RxIovIter): number;
  /** True when the tap's ring has entries (vhost_net_rx_peek_head_len, for the re-check). */
  hasPending(): boolean;
  /** Frame memory: the pool's bytes and words; a handle's data lies at dataOffset, peekLen long. */
  readonly frameU8: Uint8Array;
  readonly frameI32: Int32Array;
  dataOffset(handle: number): number;
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
