// Small memory helpers shared by the map types: slot rounding, shared-buffer allocation, the
// byte-level copies and key reads every map does, and the update-flag rule they all start with.
import { ERRNO } from '../errno.ts';
import { BpfError } from '../errors.ts';

/** BPF_F_LOCK: update under the value's bpf_spin_lock. No map here carries one, so it is refused. */
export const BPF_F_LOCK = 4;

/** Kernel elem_size: every value slot is round_up(value_size, 8) so 8-byte atomics stay aligned. */
export function roundUp8(n: number): number {
  // Arithmetic, not `& ~7`: specs are validated as u32 and may exceed int32 before the size checks.
  return Math.ceil(n / 8) * 8;
}

/**
 * A SharedArrayBuffer of `byteLength` bytes (rounded up to 8). Allocation failures surface as
 * ENOMEM, as a failed kernel allocation would, not as a RangeError from the engine.
 */
export function allocShared(byteLength: number, what: string): SharedArrayBuffer {
  const size = Math.ceil(byteLength / 8) * 8;
  try {
    return new SharedArrayBuffer(size);
  } catch (cause) {
    throw new BpfError('ENOMEM', `cannot allocate ${size} bytes for ${what}`, { cause });
  }
}

/** A shared buffer received from another worker must be at least as large as the layout needs. */
export function checkShared(buf: SharedArrayBuffer | undefined, byteLength: number, what: string): SharedArrayBuffer {
  if (!(buf instanceof SharedArrayBuffer)) throw new BpfError('EINVAL', `${what}: missing shared buffer`);
  if (buf.byteLength < byteLength) {
    throw new BpfError('EINVAL', `${what}: shared buffer has ${buf.byteLength} bytes, layout needs ${byteLength}`);
  }
  return buf;
}

/** A little-endian u32 read from a byte view (keys of array-like maps are host-endian u32, x86/arm64 LE). */
export function readU32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

export function u32Key(index: number): Uint8Array {
  const k = new Uint8Array(4);
  k[0] = index & 0xff;
  k[1] = (index >>> 8) & 0xff;
  k[2] = (index >>> 16) & 0xff;
  k[3] = index >>> 24;
  return k;
}

/**
 * Copies `len` bytes between two byte views (different buffers or not overlapping). Short values,
 * the common case for maps, go byte by byte: creating a subarray per call costs more than the loop.
 */
export function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void {
  if (len <= 32) {
    for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i]!;
  } else {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
  }
}

/**
 * The update flags every map checks first: only BPF_ANY/NOEXIST/EXIST, optionally with BPF_F_LOCK,
 * are defined (`(flags & ~BPF_F_LOCK) > BPF_EXIST` is EINVAL in the kernel). Anything that is not a
 * u32 is unknown too.
 */
export function unknownUpdateFlags(flags: number): boolean {
  return flags !== flags >>> 0 || (flags & ~BPF_F_LOCK) >>> 0 > 2;
}

export const EINVAL = -ERRNO.EINVAL;
export const EEXIST = -ERRNO.EEXIST;
export const ENOENT = -ERRNO.ENOENT;
export const E2BIG = -ERRNO.E2BIG;
export const EFAULT = -ERRNO.EFAULT;
export const EBUSY = -ERRNO.EBUSY;
