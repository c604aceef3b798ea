// A pcapng writer for tests (vxo reads pcapng but writes classic pcap): blocks in one byte order,
// options as [code, bytes], so a test can build any file, malformed ones included.

const pad4 = (n: number): number => (n + 3) & ~3;

export class PcapngBuilder {
  private readonly parts: Uint8Array[] = [];
  constructor(private readonly le = true) {}

  /** One block: type, total length, body (padded), total length. */
  block(type: number, body: Uint8Array, opts: [number, Uint8Array][] = []): this {
    const optLen = opts.length === 0 ? 0 : opts.reduce((n, [, v]) => n + 4 + pad4(v.length), 0) + 4;
    const total = 8 + pad4(body.length) + optLen + 4;
    const b = new Uint8Array(total);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, type, this.le);
    dv.setUint32(4, total, this.le);
    b.set(body, 8);
    let o = 8 + pad4(body.length);
    for (const [code, v] of opts) {
      dv.setUint16(o, code, this.le);
      dv.setUint16(o + 2, v.length, this.le);
      b.set(v, o + 4);
      o += 4 + pad4(v.length);
    }
    if (opts.length > 0) o += 4; // opt_endofopt
    dv.setUint32(o, total, this.le);
    this.parts.push(b);
    return this;
  }

  private fields(spec: [number, 2 | 4 | 8][], extra?: Uint8Array): Uint8Array {
    const n = spec.reduce((a, [, w]) => a + w, 0);
    const b = new Uint8Array(n + (extra?.length ?? 0));
    const dv = new DataView(b.buffer);
    let o = 0;
    for (const [v, w] of spec) {
      if (w === 2) dv.setUint16(o, v, this.le);
      else if (w === 4) dv.setUint32(o, v, this.le);
      else dv.setBigInt64(o, BigInt(v), this.le);
      o += w;
    }
    if (extra) b.set(extra, o);
    return b;
  }

  shb(opts: [number, Uint8Array][] = []): this {
    return this.block(0x0a0d0d0a, this.fields([[0x1a2b3c4d, 4], [1, 2], [0, 2], [-1, 8]]), opts);
  }

  idb(linktype = 1, snaplen = 0, opts: [number, Uint8Array][] = []): this {
    return this.block(1, this.fields([[linktype, 2], [0, 2], [snaplen, 4]]), opts);
  }

  epb(iface: number, ts: bigint, data: Uint8Array, origLen = data.length): this {
    return this.block(6, this.fields([[iface, 4], [Number(ts >> 32n), 4], [Number(ts & 0xffffffffn), 4], [data.length, 4], [origLen, 4]], data));
  }

  spb(data: Uint8Array, origLen = data.length): this {
    return this.block(3, this.fields([[origLen, 4]], data));
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}
