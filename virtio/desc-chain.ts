// A popped descriptor chain as the device sees it: a reusable list of (addr, len, writable)
// segments, like QEMU's VirtQueueElement or vhost's iov array, but preallocated once per queue
// (Q segments at most) so popping a packet allocates nothing.

export class DescChain {
  /** The chain's head index (what goes into used.ring[].id). */
  head = -1;
  /** Number of segments. */
  count = 0;
  /** Segments [0, readable) are device-readable, [readable, count) device-writable. */
  readable = 0;
  readableBytes = 0;
  writableBytes = 0;
  readonly addr: Uint32Array;
  readonly len: Uint32Array;
  readonly writable: Uint8Array;

  constructor(capacity: number) {
    this.addr = new Uint32Array(capacity);
    this.len = new Uint32Array(capacity);
    this.writable = new Uint8Array(capacity);
  }

  reset(head: number): void {
    this.head = head;
    this.count = 0;
    this.readable = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
  }

  /** Appends a segment; the caller has checked bounds, order and capacity. */
  push(addr: number, len: number, writable: boolean): void {
    const i = this.count++;
    this.addr[i] = addr;
    this.len[i] = len;
    this.writable[i] = writable ? 1 : 0;
    if (writable) this.writableBytes += len;
    else {
      this.readable++;
      this.readableBytes += len;
    }
  }
}
