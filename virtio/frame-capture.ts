// A packet capture point in shared memory (what tcpdump's ring is to a socket): the thread that
// sees the frames copies the first `capacity` of them, cut at `snaplen`, with a timestamp; the
// scenario runner writes them to a pcap file after the run. Once full it costs one compare per
// frame. Lives in virtio/ because all three capture points (NIC, tap, guest) can import it.

export interface SharedFrameCapture {
  buffer: SharedArrayBuffer;
  capacity: number;
  snaplen: number;
}

const HDR = 16; // u32 captured length, u32 original length, f64 timestamp (ms since epoch)

export interface CapturedFrame {
  data: Uint8Array;
  origLen: number;
  timeMs: number;
}

export class FrameCapture {
  readonly capacity: number;
  readonly snaplen: number;
  private readonly u8: Uint8Array;
  private readonly view: DataView;
  /** cells[0]: frames stored so far (published with Atomics for the reader). */
  private readonly count: Int32Array;
  private n = 0;
  private readonly slot: number;

  constructor(shared: SharedFrameCapture) {
    this.capacity = shared.capacity;
    this.snaplen = shared.snaplen;
    this.slot = HDR + ((shared.snaplen + 7) & ~7);
    if (!(shared.buffer instanceof SharedArrayBuffer) || shared.buffer.byteLength < 8 + this.slot * this.capacity) {
      throw new TypeError('frame capture: shared buffer too small for its capacity and snaplen');
    }
    this.count = new Int32Array(shared.buffer, 0, 1);
    this.u8 = new Uint8Array(shared.buffer, 8);
    this.view = new DataView(shared.buffer, 8);
    this.n = Atomics.load(this.count, 0);
  }

  static create(capacity = 1000, snaplen = 2048): FrameCapture {
    const slot = HDR + ((snaplen + 7) & ~7);
    return new FrameCapture({ buffer: new SharedArrayBuffer(8 + slot * capacity), capacity, snaplen });
  }

  share(): SharedFrameCapture {
    return { buffer: this.count.buffer as SharedArrayBuffer, capacity: this.capacity, snaplen: this.snaplen };
  }

  get full(): boolean {
    return this.n >= this.capacity;
  }

  /** Copies one frame if there is room (a bound method: hand it to a hook as is). */
  readonly capture = (src: Uint8Array, off: number, len: number): void => {
    const i = this.n;
    if (i >= this.capacity) return;
    const at = i * this.slot;
    const cap = len < this.snaplen ? len : this.snaplen;
    this.view.setUint32(at, cap, true);
    this.view.setUint32(at + 4, len, true);
    this.view.setFloat64(at + 8, performance.timeOrigin + performance.now(), true);
    this.u8.set(src.subarray(off, off + cap), at + HDR);
    this.n = i + 1;
    Atomics.store(this.count, 0, this.n);
  };

  /** The frames captured so far (copies). */
  frames(): CapturedFrame[] {
    const n = Math.min(Atomics.load(this.count, 0), this.capacity);
    const out: CapturedFrame[] = [];
    for (let i = 0; i < n; i++) {
      const at = i * this.slot;
      const cap = this.view.getUint32(at, true);
      out.push({ data: this.u8.slice(at + HDR, at + HDR + cap), origLen: this.view.getUint32(at + 4, true), timeMs: this.view.getFloat64(at + 8, true) });
    }
    return out;
  }
}
