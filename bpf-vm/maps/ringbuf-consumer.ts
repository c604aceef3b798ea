// The user-space side of a RINGBUF map, as libbpf's ring_buffer__consume / ring_buffer__poll:
// read the committed records in order from consumer_pos, skip discarded ones, stop at the first
// record still BUSY, and publish the new consumer_pos after each record so producers can reuse the
// room. One consumer per ring (the kernel's contract); it may run in any worker that opened the map.
import { BpfError } from '../errors.ts';
import type { BpfMap } from './map.ts';
import {
  asRingBuf, BPF_RINGBUF_BUSY_BIT, BPF_RINGBUF_DISCARD_BIT, BPF_RINGBUF_HDR_SZ, RINGBUF_CONSUMER_POS_OFF,
  type RingBufMap,
} from './ringbuf.ts';

/** Called with a copy of each sample; a negative return stops consuming (and is returned). */
export type RingBufSampleFn = (sample: Uint8Array) => number | void;

export class RingBufConsumer {
  readonly ring: RingBufMap;

  constructor(map: BpfMap) {
    this.ring = asRingBuf(map);
  }

  /**
   * Reads every record committed so far (ringbuf_process_ring): returns the number of samples given
   * to `fn`, or the callback's negative return.
   */
  consume(fn: RingBufSampleFn): number {
    const r = this.ring;
    let cons = r.consumerPos();
    let count = 0;
    for (;;) {
      let got = false;
      const prod = r.producerPos();
      while (cons < prod) {
        const off = cons % r.size;
        const h = Atomics.load(r.hdr, off / 4) >>> 0;
        if (h & BPF_RINGBUF_BUSY_BIT) return count;
        got = true;
        const len = h & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT) >>> 0;
        // Only a stray write of an unverified program can leave such a header: stop, do not skip.
        if (len + BPF_RINGBUF_HDR_SZ > r.size) throw new BpfError('EINVAL', `ringbuf '${r.spec.name}': corrupt record header at position ${cons} (length ${len})`);
        cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7;
        if ((h & BPF_RINGBUF_DISCARD_BIT) === 0) {
          const s = off + BPF_RINGBUF_HDR_SZ;
          const sample = r.values.slice(s, s + len);
          const ret = fn(sample);
          if (typeof ret === 'number' && ret < 0) {
            Atomics.store(r.pos, RINGBUF_CONSUMER_POS_OFF / 8, BigInt(cons));
            return ret;
          }
          count++;
        }
        Atomics.store(r.pos, RINGBUF_CONSUMER_POS_OFF / 8, BigInt(cons));
      }
      if (!got) return count;
    }
  }

  /**
   * ring_buffer__poll: consumes what is there; when nothing was, waits up to `timeoutMs` for a
   * producer's wake-up (not for records committed with BPF_RB_NO_WAKEUP) and consumes again.
   */
  poll(timeoutMs: number, fn: RingBufSampleFn): number {
    const seq = this.ring.wakeSeq();
    const n = this.consume(fn);
    if (n !== 0 || timeoutMs <= 0) return n;
    this.ring.waitWake(seq, timeoutMs);
    return this.consume(fn);
  }

  /** Bytes committed or reserved and not consumed yet (producer_pos - consumer_pos). */
  available(): number {
    return this.ring.producerPos() - this.ring.consumerPos();
  }
}

/** Every committed sample of `map`, in order, consumed. */
export function drainRingBuf(map: BpfMap): Uint8Array[] {
  const out: Uint8Array[] = [];
  new RingBufConsumer(map).consume((s) => { out.push(s); });
  return out;
}
