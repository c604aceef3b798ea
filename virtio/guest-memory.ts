// Guest memory: one SharedArrayBuffer (or a window of one) that every worker maps, like
// vhost-user shared memory. A guest-physical address (gpa) is a byte offset into the window.
// All multi-byte fields are little-endian, as virtio 1.x requires; the typed-array views used by
// the rings are platform-endian, so we refuse to run on a big-endian host rather than byte-swap.
import { VirtioError } from './errors.ts';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('virtio: big-endian hosts are not supported (ring views are platform-endian)');
}

/** What another worker needs to map the same guest memory (structured-clone friendly). */
export interface SharedGuestMemory {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  byteLength: number;
}

export class GuestMemory {
  readonly buffer: SharedArrayBuffer;
  /** Where the window starts inside `buffer`: every view below adds it. */
  readonly byteOffset: number;
  readonly size: number;
  /** Byte view of the window: u8[gpa]. */
  readonly u8: Uint8Array;
  /** DataView of the window: view.getUint16(gpa, true). */
  readonly view: DataView;

  constructor(shared: SharedGuestMemory) {
    const { buffer, byteOffset, byteLength } = shared;
    // 16-byte alignment of the window keeps every spec-aligned ring field aligned for the
    // Uint16Array/Uint32Array views the rings use (descriptor tables are 16-aligned in gpa space).
    if (byteOffset % 16 !== 0 || byteOffset < 0 || byteLength < 0 || byteOffset + byteLength > buffer.byteLength) {
      throw new VirtioError('EINVAL', `guest memory window [${byteOffset}, +${byteLength}) does not fit a ${buffer.byteLength}-byte buffer 16-aligned`);
    }
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.size = byteLength;
    this.u8 = new Uint8Array(buffer, byteOffset, byteLength);
    this.view = new DataView(buffer, byteOffset, byteLength);
  }

  static create(size: number): GuestMemory {
    if (!Number.isInteger(size) || size <= 0 || size > 0xffff_ffff) {
      throw new VirtioError('EINVAL', `guest memory size ${size} is not in 1..2^32-1`);
    }
    return new GuestMemory({ buffer: new SharedArrayBuffer(size), byteOffset: 0, byteLength: size });
  }

  share(): SharedGuestMemory {
    return { buffer: this.buffer, byteOffset: this.byteOffset, byteLength: this.size };
  }

  /** True when [gpa, gpa+len) lies inside guest memory (no throw: the device's validation path). */
  contains(gpa: number, len: number): boolean {
    return gpa >= 0 && len >= 0 && gpa + len <= this.size;
  }

  /** Throws EFAULT unless [gpa, gpa+len) lies inside guest memory. */
  check(gpa: number, len: number): void {
    if (!(Number.isInteger(gpa) && Number.isInteger(len) && this.contains(gpa, len))) {
      throw new VirtioError('EFAULT', `guest access [0x${hex(gpa)}, +${len}) outside guest memory of ${this.size} bytes`);
    }
  }

  /** A Uint16Array over [gpa, gpa+2*count): for ring fields accessed with Atomics. */
  u16At(gpa: number, count: number): Uint16Array {
    this.check(gpa, count * 2);
    if (gpa % 2 !== 0) throw new VirtioError('EINVAL', `u16 view at unaligned gpa 0x${hex(gpa)}`);
    return new Uint16Array(this.buffer, this.byteOffset + gpa, count);
  }

  /** A Uint32Array over [gpa, gpa+4*count). */
  u32At(gpa: number, count: number): Uint32Array {
    this.check(gpa, count * 4);
    if (gpa % 4 !== 0) throw new VirtioError('EINVAL', `u32 view at unaligned gpa 0x${hex(gpa)}`);
    return new Uint32Array(this.buffer, this.byteOffset + gpa, count);
  }

  readU8(gpa: number): number { this.check(gpa, 1); return this.u8[gpa]!; }
  readU16(gpa: number): number { this.check(gpa, 2); return this.view.getUint16(gpa, true); }
  readU32(gpa: number): number { this.check(gpa, 4); return this.view.getUint32(gpa, true); }
  /** u64 as a number: guest memory is below 2^32, larger values are returned exactly up to 2^53. */
  readU64(gpa: number): number {
    this.check(gpa, 8);
    return this.view.getUint32(gpa + 4, true) * 0x1_0000_0000 + this.view.getUint32(gpa, true);
  }
  writeU8(gpa: number, v: number): void { this.check(gpa, 1); this.u8[gpa] = v; }
  writeU16(gpa: number, v: number): void { this.check(gpa, 2); this.view.setUint16(gpa, v, true); }
  writeU32(gpa: number, v: number): void { this.check(gpa, 4); this.view.setUint32(gpa, v, true); }
  writeU64(gpa: number, v: number): void {
    this.check(gpa, 8);
    this.view.setUint32(gpa, v >>> 0, true);
    this.view.setUint32(gpa + 4, Math.floor(v / 0x1_0000_0000) >>> 0, true);
  }

  /** A view (not a copy) of [gpa, gpa+len). */
  bytes(gpa: number, len: number): Uint8Array {
    this.check(gpa, len);
    return this.u8.subarray(gpa, gpa + len);
  }
  /** A copy of [gpa, gpa+len): what a device keeps when the guest could change the bytes later. */
  copyOut(gpa: number, len: number): Uint8Array {
    return this.bytes(gpa, len).slice();
  }
  write(gpa: number, src: Uint8Array): void {
    this.check(gpa, src.length);
    this.u8.set(src, gpa);
  }
  fill(gpa: number, len: number, value = 0): void {
    this.check(gpa, len);
    this.u8.fill(value, gpa, gpa + len);
  }
}

export function hex(n: number): string {
  return Number.isFinite(n) ? n.toString(16) : String(n);
}
