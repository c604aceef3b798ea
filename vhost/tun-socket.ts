// vhost_net's backend socket when it is a tap (VHOST_NET_SET_BACKEND with a tun fd): the tap's
// recvmsg with the offloaded program (TunRecv), its sendmsg into the Rx path (TunRx), and the
// shared frame pool the tx_ring's pointers point into.
import { type FramePool, type PagePoolRemote, type TunRecv, type TunRx } from '../tun/index.ts';
import type { PtrRingConsumer, RxIovIter, TapSocket } from './tap-socket.ts';

export class TunSocket implements TapSocket {
  readonly frameU8: Uint8Array;
  readonly frameI32: Int32Array;
  private readonly meta: FramePool;
  private readonly scratch: number;
  /** Guest packets larger than a frame, refused by tun_get_user. */
  tx_oversized = 0;

  constructor(readonly recv: TunRecv, readonly rx: TunRx, readonly pool: FramePool, readonly remote: PagePoolRemote) {
    this.frameU8 = pool.u8;
    this.frameI32 = pool.i32;
    this.meta = pool;
    this.scratch = rx.scratchData;
  }

  recvmsg(out: Uint32Array): number {
    return this.recv.tun_recvmsg(out);
  }

  txRing(): PtrRingConsumer {
    return this.recv.ring;
  }

  peekLen(h: number): number {
    return this.meta.length(h);
  }

  recvmsgPtr(h: number, to: RxIovIter): number {
    const len = this.recv.tun_do_read_ptr(h);
    const written = to.writeFrame(this.meta.dataOffset(h), len);
    this.remote.free(h);
    return written;
  }

  hasPending(): boolean {
    return this.recv.hasData();
  }

  dataOffset(h: number): number {
    return this.meta.dataOffset(h);
  }

  free(h: number): void {
    this.remote.free(h);
  }

  flushFrees(): void {
    this.remote.flush();
  }

  /** tun_sendmsg -> tun_get_user: the guest's packet is copied into an skb (the scratch frame). */
  sendmsg(src: Uint8Array, off: number, len: number): void {
    const dst = this.frameU8;
    const d = this.scratch;
    if (len > this.rx.pool.maxData) {
      // Larger than any frame: tun_get_user's -EINVAL. The guest's packet is dropped, not the host.
      this.tx_oversized++;
      return;
    }
    const rx = this.rx;
    // Without a program to run, the packet needs no frame of its own before the host's backlog.
    if (rx.program === undefined && rx.backlog !== undefined && rx.netif_rx === undefined) {
      rx.tun_get_user_direct(src, off, len);
      return;
    }
    for (let i = 0; i < len; i++) dst[d + i] = src[off + i]!;
    rx.tun_get_user(len);
  }

  flushTx(): void {
    this.rx.tun_flush();
  }
}
