// Region-tagged pointers: a pointer's high 32 bits are 0xffffRRRR (R = region id), its low 32 bits
// the byte offset into that region. Pointer arithmetic and comparisons stay plain int32 work, and a
// value whose high half is anything else is a scalar, never dereferenced.

/** High half of a pointer into region `id`. */
export const regionTag = (id: number): number => (0xffff0000 | id) | 0;
/** High half of a const map pointer (ld_imm64 src_reg 1): 0xfffeNNNN, N = the program's map index. */
export const mapPtrTag = (index: number): number => (0xfffe0000 | index) | 0;

/** High half of a function's address (ld_imm64 src_reg 4); the low half is its first instruction. */
export const FUNC_PTR_TAG = 0xfffd0000 | 0;

export const isRegionTag = (hi: number): boolean => (hi >>> 16) === 0xffff;
export const isMapPtrTag = (hi: number): boolean => (hi >>> 16) === 0xfffe;

/** Fixed region ids; maps' value regions follow from REGION_ID.FIRST_MAP in program map order. */
export const REGION_ID = {
  CTX: 0,
  PACKET: 1,
  STACK: 2,
  FIRST_MAP: 3,
} as const;

export type RegionKind = 'ctx' | 'packet' | 'stack' | 'map_value' | 'map_key' | 'mem' | 'sock' | 'btf';

/**
 * A block of memory a program may address. Only [lo, hi) is accessible: a packet region's buffer
 * holds headroom and tailroom that the program may reach only after xdp_adjust_head/tail move the
 * bounds. Views are made once per region, never per access.
 */
export class Region {
  u8: Uint8Array;
  dv: DataView;
  i32: Int32Array;
  lo: number;
  hi: number;
  constructor(
    readonly id: number,
    readonly kind: RegionKind,
    readonly name: string,
    bytes: Uint8Array,
    readonly writable: boolean,
  ) {
    this.u8 = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.i32 = int32View(bytes);
    this.lo = 0;
    this.hi = bytes.byteLength;
  }

  /** Points the region at another buffer (a different packet buffer), keeping its id. */
  rebind(bytes: Uint8Array): void {
    if (bytes === this.u8) return;
    this.u8 = bytes;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.i32 = int32View(bytes);
  }
}

/** Atomics need an aligned Int32Array; an unaligned buffer gets an empty one and atomics fault on it. */
function int32View(bytes: Uint8Array): Int32Array {
  if (bytes.byteOffset % 8 !== 0) return new Int32Array(0);
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
}

export function formatPointer(lo: number, hi: number): string {
  return `0x${(hi >>> 0).toString(16).padStart(8, '0')}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}
