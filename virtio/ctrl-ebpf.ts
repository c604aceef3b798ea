// The offload RFC's control class VIRTIO_NET_CTRL_EBPF (= 6): its commands, the payloads
// (struct virtio_net_ctrl_ebpf_prog, struct virtio_net_ctrl_ebpf_map), and what vxo adds where the
// RFC left gaps: a device-writable result buffer after the ack, a feature bit, and an optional
// metadata trailer. All fields little-endian (the RFC's __virtio32/64 on a VERSION_1 device).
//
// Command data (device-readable, after the 2-byte class/command header of ctrl.ts):
//
//   PROG (command 1)                       MAP (command 2)
//   0  le32 len   (insn bytes)             0  le32 buf_len = key_size + max(key_size, value_size)
//   4  le16 cmd   (SET/UNSET_OFFLOAD)      4  le32 cmd     (CREATE_MAP .. GET_NEXT)
//   6  le16 gpl_compatible                 8  le32 map_type
//   8  u8   insns[len]                     12 le32 key_size
//      [metadata trailer]                  16 le32 value_size
//                                          20 le32 max_entries
//                                          24 le32 map_flags
//                                          28 le32 map_fd  (the device's map handle)
//                                          32 le64 flags   (BPF_ANY/NOEXIST/EXIST on UPDATE_ELEM)
//                                          40 u8   buf[buf_len]: key, then value or next key
//                                             [metadata trailer]
//
// Result (device-writable, after the ack): struct virtio_net_ctrl_ebpf_result
//   0  le32 errno  0, or a positive Linux errno saying why the ack is VIRTIO_NET_ERR
//   4  le32 len    bytes of data the device had to give
//   8  u8   data[] min(len, room) bytes. On OK: the map handle (le32) on CREATE_MAP, the value
//                  on LOOKUP_ELEM, the next key on GET_FIRST/GET_NEXT, nothing otherwise. On ERR:
//                  the reason as UTF-8 text, the host verifier's log for a refused SET_OFFLOAD
//                  (cut to the room the driver gave; len > written says it was cut)
// The RFC instead had QEMU copy the whole command struct back over the driver's device-readable
// buffer (a spec violation) and mapped every failure to -EFAULT; neither is reproduced.
//
// Metadata trailer (vxo's, beyond the RFC): when bit VIRTIO_NET_BPF_F_META is set in the header's
// cmd field, the bytes after the instructions (PROG) or after buf (MAP) are one msgpack map, at
// most VIRTIO_NET_BPF_META_MAX bytes: {name, tag, license} for a program, {name, key_type,
// value_type} for CREATE_MAP (BTF type names when the object had BTF). Keys not known here are
// ignored. Only sent when VIRTIO_NET_F_VXO_EBPF_META was negotiated.
//
// Decoders never throw: malformed input comes back as an EbpfCtrlDecodeError value.
import { createHash } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import { VirtioError } from './errors.ts';

/** Commands of class VIRTIO_NET_CTRL_EBPF (the RFC's names). */
export const VIRTIO_NET_CTRL_EBPF_CMD = {
  VIRTIO_NET_CTRL_EBPF_PROG: 1,
  VIRTIO_NET_CTRL_EBPF_MAP: 2,
} as const;

/** Sub-commands of VIRTIO_NET_CTRL_EBPF_PROG, in struct virtio_net_ctrl_ebpf_prog.cmd. */
export const VIRTIO_NET_BPF_PROG_CMD = {
  VIRTIO_NET_BPF_CMD_SET_OFFLOAD: 1,
  VIRTIO_NET_BPF_CMD_UNSET_OFFLOAD: 2,
} as const;

/** Sub-commands of VIRTIO_NET_CTRL_EBPF_MAP, in struct virtio_net_ctrl_ebpf_map.cmd. */
export const VIRTIO_NET_BPF_MAP_CMD = {
  VIRTIO_NET_BPF_CMD_CREATE_MAP: 1,
  VIRTIO_NET_BPF_CMD_FREE_MAP: 2,
  VIRTIO_NET_BPF_CMD_UPDATE_ELEM: 3,
  VIRTIO_NET_BPF_CMD_LOOKUP_ELEM: 4,
  VIRTIO_NET_BPF_CMD_DELETE_ELEM: 5,
  VIRTIO_NET_BPF_CMD_GET_FIRST: 6,
  VIRTIO_NET_BPF_CMD_GET_NEXT: 7,
} as const;

/**
 * Feature bits of vxo's own, NOT of the virtio spec (the RFC had none: its driver registered as
 * offload-capable unconditionally). They sit in 42..49, which the spec reserves for future
 * extensions, so no standard virtio-net bit can collide with them; Linux's UDP-tunnel GSO bits
 * went to 65..68.
 */
export const VIRTIO_NET_F_VXO = {
  /** The device executes class VIRTIO_NET_CTRL_EBPF: XDP programs and maps can be offloaded. */
  VIRTIO_NET_F_VXO_EBPF_OFFLOAD: 47,
  /** The device accepts the metadata trailer (VIRTIO_NET_BPF_F_META). Needs EBPF_OFFLOAD. */
  VIRTIO_NET_F_VXO_EBPF_META: 48,
} as const;

/** Set in the header's cmd (bit 15 of PROG's le16, and of MAP's le32): a metadata trailer follows. */
export const VIRTIO_NET_BPF_F_META = 0x8000;

export const VIRTIO_NET_CTRL_EBPF_PROG_HDR_LEN = 8;
export const VIRTIO_NET_CTRL_EBPF_MAP_HDR_LEN = 40;
export const VIRTIO_NET_CTRL_EBPF_RESULT_HDR_LEN = 8;
/** sizeof(struct bpf_insn). */
export const VIRTIO_NET_BPF_INSN_SIZE = 8;
/** Largest metadata trailer a device reads. */
export const VIRTIO_NET_BPF_META_MAX = 4096;
/** BPF_OBJ_NAME_LEN: names are at most 15 characters (plus the kernel's NUL). */
export const BPF_OBJ_NAME_LEN = 16;

/**
 * The helpers an offloaded program may call: the RFC's allow list of 11 (enum bpf_func_id
 * values; virtio imports nothing of ours, so the numbers are spelled out). Both sides enforce it.
 */
export const VIRTIO_NET_BPF_OFFLOAD_HELPERS = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  ktime_get_ns: 5,
  get_prandom_u32: 7,
  csum_update: 40,
  xdp_adjust_head: 44,
  xdp_adjust_meta: 54,
  xdp_adjust_tail: 65,
  strtol: 105,
  strtoul: 106,
} as const;

/** Why a payload did not decode (stable, for tests and logs). */
export type EbpfDecodeReason =
  | 'SHORT_HEADER' // fewer bytes than the fixed header
  | 'LEN_MISMATCH' // a length field disagrees with the bytes present (missing or trailing bytes)
  | 'INSN_ALIGN' // PROG len is not a multiple of 8
  | 'BUF_LEN_MISMATCH' // MAP buf_len is not key_size + max(key_size, value_size)
  | 'BAD_CMD_FLAGS' // unknown bits in the high part of a header's cmd
  | 'BAD_METADATA'; // the trailer is empty, too large, not one msgpack map, or has ill-typed fields

/** A malformed EBPF-class payload or result. Its errno is always EINVAL. */
export class EbpfCtrlDecodeError extends VirtioError {
  readonly reason: EbpfDecodeReason;
  constructor(reason: EbpfDecodeReason, message: string, options?: { cause?: unknown }) {
    super('EINVAL', message, options);
    this.name = 'EbpfCtrlDecodeError';
    this.reason = reason;
  }
}

export interface EbpfProgMeta {
  /** The program's name (as bpf_attr.prog_name: at most 15 of [A-Za-z0-9_.]). */
  name?: string;
  /** The program tag as bpftool prints it (16 hex digits), see ebpfProgTag. */
  tag?: string;
  license?: string;
}

export interface EbpfMapMeta {
  name?: string;
  /** BTF type names of the key and value, when the object carried BTF. */
  keyType?: string;
  valueType?: string;
}

/** struct virtio_net_ctrl_ebpf_prog, decoded. */
export interface EbpfProgCmd {
  /** Sub-command (VIRTIO_NET_BPF_PROG_CMD), without the META flag. */
  cmd: number;
  gplCompatible: number;
  /** The instructions as sent (len bytes); a view into the command's data. */
  insns: Uint8Array;
  meta?: EbpfProgMeta;
}

/** struct virtio_net_ctrl_ebpf_map, decoded. */
export interface EbpfMapCmd {
  /** Sub-command (VIRTIO_NET_BPF_MAP_CMD), without the META flag. */
  cmd: number;
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
  /** The device's map handle (the RFC's host map_fd). */
  mapFd: number;
  /** Update flags (u64). */
  flags: bigint;
  /** buf_len bytes: key, then value or next key. A view into the command's data. */
  buf: Uint8Array;
  meta?: EbpfMapMeta;
}

/** struct virtio_net_ctrl_ebpf_result, decoded. */
export interface EbpfCtrlResult {
  errno: number;
  /** The bytes the device wrote (at most `len`). */
  data: Uint8Array;
  /** The device had more to give than the driver's buffer held (a cut verifier log). */
  truncated: boolean;
}

/** buf_len for a map: room for a key and then a value or a second key (the RFC's sizing). */
export function ebpfMapBufLen(keySize: number, valueSize: number): number {
  return keySize + Math.max(keySize, valueSize);
}

// useRecords off: msgpackr's records are an extension another decoder would not understand.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function checkU32(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new VirtioError('EINVAL', `${name} ${v} is not a u32`);
}

function packMeta(obj: Record<string, string>): Uint8Array {
  // pack() may hand back a view of a pooled buffer: copy it out.
  return Uint8Array.from(packr.pack(obj));
}

function progMetaObject(m: EbpfProgMeta): Record<string, string> {
  const o: Record<string, string> = {};
  if (m.name !== undefined) o.name = m.name;
  if (m.tag !== undefined) o.tag = m.tag;
  if (m.license !== undefined) o.license = m.license;
  return o;
}

function mapMetaObject(m: EbpfMapMeta): Record<string, string> {
  const o: Record<string, string> = {};
  if (m.name !== undefined) o.name = m.name;
  if (m.keyType !== undefined) o.key_type = m.keyType;
  if (m.valueType !== undefined) o.value_type = m.valueType;
  return o;
}

/** Encodes struct virtio_net_ctrl_ebpf_prog (+ trailer when `meta` is given). Throws on out-of-range fields. */
export function encodeEbpfProgCmd(c: { cmd: number; gplCompatible?: number; insns?: Uint8Array; meta?: EbpfProgMeta }): Uint8Array {
  const insns = c.insns ?? new Uint8Array(0);
  const gpl = c.gplCompatible ?? 0;
  if (!(Number.isInteger(c.cmd) && c.cmd >= 0 && c.cmd <= 0xffff)) throw new VirtioError('EINVAL', `PROG cmd ${c.cmd} is not a u16`);
  if (!(Number.isInteger(gpl) && gpl >= 0 && gpl <= 0xffff)) throw new VirtioError('EINVAL', `gpl_compatible ${gpl} is not a u16`);
  const trailer = c.meta === undefined ? undefined : packMeta(progMetaObject(c.meta));
  const out = new Uint8Array(VIRTIO_NET_CTRL_EBPF_PROG_HDR_LEN + insns.length + (trailer?.length ?? 0));
  const v = dv(out);
  v.setUint32(0, insns.length, true);
  v.setUint16(4, trailer ? c.cmd | VIRTIO_NET_BPF_F_META : c.cmd, true);
  v.setUint16(6, gpl, true);
  out.set(insns, VIRTIO_NET_CTRL_EBPF_PROG_HDR_LEN);
  if (trailer) out.set(trailer, VIRTIO_NET_CTRL_EBPF_PROG_HDR_LEN + insns.length);
  return out;
}

/** Decodes struct virtio_net_ctrl_ebpf_prog. Structural checks only; the device judges the contents. */
export function decodeEbpfProgCmd(data: Uint8Array): EbpfProgCmd | EbpfCtrlDecodeError {
  const H = VIRTIO_NET_CTRL_EBPF_PROG_HDR_LEN;
  if (data.length < H) return new EbpfCtrlDecodeError('SHORT_HEADER', `PROG payload of ${data.length} bytes, the header needs ${H}`);
  const v = dv(data);
  const len = v.getUint32(0, true);
  const rawCmd = v.getUint16(4, true);
  const gplCompatible = v.getUint16(6, true);
  const hasMeta = (rawCmd & VIRTIO_NET_BPF_F_META) !== 0;
  const cmd = rawCmd & ~VIRTIO_NET_BPF_F_META;
  if (cmd > 0xff) return new EbpfCtrlDecodeError('BAD_CMD_FLAGS', `PROG cmd 0x${rawCmd.toString(16)} has unknown flag bits`);
  if (len % VIRTIO_NET_BPF_INSN_SIZE !== 0) return new EbpfCtrlDecodeError('INSN_ALIGN', `PROG len ${len} is not a multiple of ${VIRTIO_NET_BPF_INSN_SIZE}`);
  const after = data.length - H;
  if (hasMeta ? len >= after : len !== after) {
    return new EbpfCtrlDecodeError('LEN_MISMATCH', `PROG len ${len} but ${after} bytes follow the header${hasMeta ? ' (with a metadata trailer)' : ''}`);
  }
  const insns = data.subarray(H, H + len);
  if (!hasMeta) return { cmd, gplCompatible, insns };
  const meta = decodeProgMeta(data.subarray(H + len));
  if (meta instanceof EbpfCtrlDecodeError) return meta;
  return { cmd, gplCompatible, insns, meta };
}

/** Encodes struct virtio_net_ctrl_ebpf_map; `buf` defaults to zeros of ebpfMapBufLen(key, value). */
export function encodeEbpfMapCmd(c: {
  cmd: number; mapType?: number; keySize?: number; valueSize?: number; maxEntries?: number; mapFlags?: number;
  mapFd?: number; flags?: number | bigint; buf?: Uint8Array; meta?: EbpfMapMeta;
}): Uint8Array {
  const f = {
    cmd: c.cmd, map_type: c.mapType ?? 0, key_size: c.keySize ?? 0, value_size: c.valueSize ?? 0,
    max_entries: c.maxEntries ?? 0, map_flags: c.mapFlags ?? 0, map_fd: c.mapFd ?? 0,
  };
  for (const [k, val] of Object.entries(f)) checkU32(k, val);
  if ((f.cmd & VIRTIO_NET_BPF_F_META) !== 0) throw new VirtioError('EINVAL', `MAP cmd ${f.cmd} collides with VIRTIO_NET_BPF_F_META`);
  const flags = BigInt(c.flags ?? 0);
  if (flags < 0n || flags >= 1n << 64n) throw new VirtioError('EINVAL', `flags ${flags} is not a u64`);
  const buf = c.buf ?? new Uint8Array(ebpfMapBufLen(f.key_size, f.value_size));
  checkU32('buf_len', buf.length);
  const trailer = c.meta === undefined ? undefined : packMeta(mapMetaObject(c.meta));
  const H = VIRTIO_NET_CTRL_EBPF_MAP_HDR_LEN;
  const out = new Uint8Array(H + buf.length + (trailer?.length ?? 0));
  const v = dv(out);
  v.setUint32(0, buf.length, true);
  v.setUint32(4, (trailer ? f.cmd | VIRTIO_NET_BPF_F_META : f.cmd) >>> 0, true);
  v.setUint32(8, f.map_type, true);
  v.setUint32(12, f.key_size, true);
  v.setUint32(16, f.value_size, true);
  v.setUint32(20, f.max_entries, true);
  v.setUint32(24, f.map_flags, true);
  v.setUint32(28, f.map_fd, true);
  v.setBigUint64(32, flags, true);
  out.set(buf, H);
  if (trailer) out.set(trailer, H + buf.length);
  return out;
}

/**
 * Decodes struct virtio_net_ctrl_ebpf_map: the header, buf_len against the bytes present and
 * against key_size/value_size (the RFC's sizing), and the trailer when flagged.
 */
export function decodeEbpfMapCmd(data: Uint8Array): EbpfMapCmd | EbpfCtrlDecodeError {
  const H = VIRTIO_NET_CTRL_EBPF_MAP_HDR_LEN;
  if (data.length < H) return new EbpfCtrlDecodeError('SHORT_HEADER', `MAP payload of ${data.length} bytes, the header needs ${H}`);
  const v = dv(data);
  const bufLen = v.getUint32(0, true);
  const rawCmd = v.getUint32(4, true);
  const hasMeta = (rawCmd & VIRTIO_NET_BPF_F_META) !== 0;
  const cmd = (rawCmd & ~VIRTIO_NET_BPF_F_META) >>> 0;
  if (cmd > 0xff) return new EbpfCtrlDecodeError('BAD_CMD_FLAGS', `MAP cmd 0x${rawCmd.toString(16)} has unknown flag bits`);
  const keySize = v.getUint32(12, true);
  const valueSize = v.getUint32(16, true);
  const after = data.length - H;
  if (hasMeta ? bufLen >= after : bufLen !== after) {
    return new EbpfCtrlDecodeError('LEN_MISMATCH', `MAP buf_len ${bufLen} but ${after} bytes follow the header${hasMeta ? ' (with a metadata trailer)' : ''}`);
  }
  const want = ebpfMapBufLen(keySize, valueSize);
  if (bufLen !== want) {
    return new EbpfCtrlDecodeError('BUF_LEN_MISMATCH', `MAP buf_len ${bufLen}, key_size ${keySize} and value_size ${valueSize} need ${want}`);
  }
  const cmdOut: EbpfMapCmd = {
    cmd,
    mapType: v.getUint32(8, true),
    keySize,
    valueSize,
    maxEntries: v.getUint32(20, true),
    mapFlags: v.getUint32(24, true),
    mapFd: v.getUint32(28, true),
    flags: v.getBigUint64(32, true),
    buf: data.subarray(H, H + bufLen),
  };
  if (!hasMeta) return cmdOut;
  const meta = decodeMapMeta(data.subarray(H + bufLen));
  if (meta instanceof EbpfCtrlDecodeError) return meta;
  cmdOut.meta = meta;
  return cmdOut;
}

/** The key part of a MAP command's buf. */
export function ebpfMapKey(c: EbpfMapCmd): Uint8Array {
  return c.buf.subarray(0, c.keySize);
}

/** The value part of a MAP command's buf (UPDATE_ELEM). */
export function ebpfMapValue(c: EbpfMapCmd): Uint8Array {
  return c.buf.subarray(c.keySize, c.keySize + c.valueSize);
}

/**
 * Encodes a result: the 8-byte header and as much of `data` as `capacity` (the driver's result
 * buffer) holds. Less than 8 bytes of room: nothing at all, the ack alone answers.
 */
export function encodeEbpfResult(errno: number, data: Uint8Array = new Uint8Array(0), capacity = Infinity): Uint8Array {
  const R = VIRTIO_NET_CTRL_EBPF_RESULT_HDR_LEN;
  if (capacity < R) return new Uint8Array(0);
  const n = Math.min(data.length, capacity - R);
  const out = new Uint8Array(R + n);
  const v = dv(out);
  v.setUint32(0, errno >>> 0, true);
  v.setUint32(4, data.length >>> 0, true);
  out.set(data.subarray(0, n), R);
  return out;
}

/** Decodes what the device wrote after the ack (readCtrlReply's `result`). */
export function decodeEbpfResult(bytes: Uint8Array): EbpfCtrlResult | EbpfCtrlDecodeError {
  const R = VIRTIO_NET_CTRL_EBPF_RESULT_HDR_LEN;
  if (bytes.length < R) return new EbpfCtrlDecodeError('SHORT_HEADER', `result of ${bytes.length} bytes, the header needs ${R}`);
  const v = dv(bytes);
  const errno = v.getUint32(0, true);
  const len = v.getUint32(4, true);
  const present = bytes.length - R;
  if (present > len) return new EbpfCtrlDecodeError('LEN_MISMATCH', `result len ${len} but ${present} data bytes were written`);
  return { errno, data: bytes.slice(R, R + present), truncated: len > present };
}

/** CREATE_MAP's answer: the map handle as a little-endian u32 (undefined unless exactly 4 bytes). */
export function decodeEbpfHandle(data: Uint8Array): number | undefined {
  return data.length === 4 ? dv(data).getUint32(0, true) : undefined;
}

export function encodeEbpfHandle(handle: number): Uint8Array {
  const b = new Uint8Array(4);
  dv(b).setUint32(0, handle >>> 0, true);
  return b;
}

// --- metadata --------------------------------------------------------------------------------

const NAME_RE = /^[A-Za-z0-9_.]{0,15}$/;
const TAG_RE = /^[0-9a-f]{16}$/;
// Printable ASCII: type names and licenses end up in host logs and `vxo` output.
const TEXT_RE = /^[\x20-\x7e]{0,255}$/;

type Fields = Record<string, unknown>;

function unpackTrailer(bytes: Uint8Array): Fields | EbpfCtrlDecodeError {
  if (bytes.length === 0) return new EbpfCtrlDecodeError('BAD_METADATA', 'metadata flag set but no trailer');
  if (bytes.length > VIRTIO_NET_BPF_META_MAX) return new EbpfCtrlDecodeError('BAD_METADATA', `metadata trailer of ${bytes.length} bytes > ${VIRTIO_NET_BPF_META_MAX}`);
  let o: unknown;
  try {
    o = unpackr.unpack(bytes);
  } catch (e) {
    return new EbpfCtrlDecodeError('BAD_METADATA', `metadata trailer is not one msgpack value: ${(e as Error).message}`, { cause: e });
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o) || Object.getPrototypeOf(o) !== Object.prototype) {
    return new EbpfCtrlDecodeError('BAD_METADATA', 'metadata trailer is not a msgpack map');
  }
  return o as Fields;
}

function text(o: Fields, key: string, re: RegExp): string | undefined | EbpfCtrlDecodeError {
  if (!Object.hasOwn(o, key)) return undefined;
  const v = o[key];
  if (typeof v !== 'string' || !re.test(v)) return new EbpfCtrlDecodeError('BAD_METADATA', `metadata field '${key}' is not a valid string`);
  return v;
}

export function decodeProgMeta(bytes: Uint8Array): EbpfProgMeta | EbpfCtrlDecodeError {
  const o = unpackTrailer(bytes);
  if (o instanceof EbpfCtrlDecodeError) return o;
  const name = text(o, 'name', NAME_RE);
  const tag = text(o, 'tag', TAG_RE);
  const license = text(o, 'license', TEXT_RE);
  for (const f of [name, tag, license]) if (f instanceof EbpfCtrlDecodeError) return f;
  const m: EbpfProgMeta = {};
  if (typeof name === 'string') m.name = name;
  if (typeof tag === 'string') m.tag = tag;
  if (typeof license === 'string') m.license = license;
  return m;
}

export function decodeMapMeta(bytes: Uint8Array): EbpfMapMeta | EbpfCtrlDecodeError {
  const o = unpackTrailer(bytes);
  if (o instanceof EbpfCtrlDecodeError) return o;
  const name = text(o, 'name', NAME_RE);
  const keyType = text(o, 'key_type', TEXT_RE);
  const valueType = text(o, 'value_type', TEXT_RE);
  for (const f of [name, keyType, valueType]) if (f instanceof EbpfCtrlDecodeError) return f;
  const m: EbpfMapMeta = {};
  if (typeof name === 'string') m.name = name;
  if (typeof keyType === 'string') m.keyType = keyType;
  if (typeof valueType === 'string') m.valueType = valueType;
  return m;
}

/** A name cut and filtered the way bpf_obj_name_cpy would accept it (at most 15 of [A-Za-z0-9_.]). */
export function bpfObjName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, BPF_OBJ_NAME_LEN - 1);
}

// --- program tag -----------------------------------------------------------------------------

/** The digest behind the tag: SHA-256 since Linux 6.18 (prog->digest), SHA-1 before (the RFC's 5.4). */
export type BpfTagAlgorithm = 'sha256' | 'sha1';

/**
 * The program tag as the kernel computes it (bpf_prog_calc_tag) and bpftool prints it: a digest
 * of the instructions with the imm of every map-referencing ld_imm64 (src_reg BPF_PSEUDO_MAP_FD
 * or BPF_PSEUDO_MAP_VALUE, and its second half) zeroed, first 8 bytes in hex. Map fds differ
 * between loads, and here between guest fds and device handles, so both sides compute the same
 * tag. The default digest is SHA-256, which matches `bpftool prog show` on Linux >= 6.18 (checked
 * against the development machines' kernel); 'sha1' gives the tag older kernels show.
 */
export function ebpfProgTag(insns: Uint8Array, alg: BpfTagAlgorithm = 'sha256'): string {
  const raw = insns.slice(0, insns.length - (insns.length % VIRTIO_NET_BPF_INSN_SIZE));
  const v = dv(raw);
  let wasLdMap = false;
  for (let o = 0; o < raw.length; o += VIRTIO_NET_BPF_INSN_SIZE) {
    const code = raw[o]!;
    const src = raw[o + 1]! >>> 4;
    if (!wasLdMap && code === 0x18 && (src === 1 || src === 2)) {
      wasLdMap = true;
      v.setInt32(o + 4, 0, true);
    } else if (wasLdMap && code === 0 && raw[o + 1] === 0 && v.getInt16(o + 2, true) === 0) {
      wasLdMap = false;
      v.setInt32(o + 4, 0, true);
    } else {
      wasLdMap = false;
    }
  }
  return createHash(alg).update(raw).digest().subarray(0, 8).toString('hex');
}

// --- typed command builders --------------------------------------------------------------------

/** One class-EBPF command, ready for buildCtrlCommand / a device's handle(cmd, data). */
export interface EbpfCtrlRequest {
  cls: number;
  cmd: number;
  data: Uint8Array;
  /** Result room: the header plus the larger of the answer (handle/value/key) and room for a reason (a log for SET_OFFLOAD). */
  resultLen: number;
}

/** What a driver keeps of a created map: the fields every later MAP command repeats. */
export interface EbpfMapRef {
  handle: number;
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
}

/** Room for a verifier log by default (QEMU's log buffer in the RFC was 64 KiB). */
export const VIRTIO_NET_BPF_DEFAULT_LOG_ROOM = 16 * 1024;
/** Room the builders give every other command, so a refusal's reason text fits. */
export const VIRTIO_NET_BPF_DEFAULT_REASON_ROOM = 256;
const room = (data: number): number => RES + Math.max(data, VIRTIO_NET_BPF_DEFAULT_REASON_ROOM);
const CTRL_EBPF = 6;
const RES = VIRTIO_NET_CTRL_EBPF_RESULT_HDR_LEN;

function mapRequest(cmd: number, m: EbpfMapRef, buf: Uint8Array, flags: number | bigint, resultData: number): EbpfCtrlRequest {
  return {
    cls: CTRL_EBPF,
    cmd: VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_MAP,
    data: encodeEbpfMapCmd({
      cmd, mapType: m.mapType, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries,
      mapFlags: m.mapFlags ?? 0, mapFd: m.handle, flags, buf,
    }),
    resultLen: room(resultData),
  };
}

function mapBuf(m: EbpfMapRef, key?: Uint8Array, value?: Uint8Array): Uint8Array {
  const buf = new Uint8Array(ebpfMapBufLen(m.keySize, m.valueSize));
  if (key !== undefined) {
    if (key.length !== m.keySize) throw new VirtioError('EINVAL', `key of ${key.length} bytes, the map's key_size is ${m.keySize}`);
    buf.set(key, 0);
  }
  if (value !== undefined) {
    if (value.length !== m.valueSize) throw new VirtioError('EINVAL', `value of ${value.length} bytes, the map's value_size is ${m.valueSize}`);
    buf.set(value, m.keySize);
  }
  return buf;
}

const M = VIRTIO_NET_BPF_MAP_CMD;
const P = VIRTIO_NET_BPF_PROG_CMD;

/**
 * Builders of well-formed commands, one per sub-command (malformed ones: encodeEbpf*Cmd). They
 * throw VirtioError EINVAL on arguments that cannot be encoded (a key of the wrong size, ...).
 */
export const ebpfCmd = {
  setOffload(a: { insns: Uint8Array; gplCompatible?: boolean; meta?: EbpfProgMeta; logRoom?: number }): EbpfCtrlRequest {
    return {
      cls: CTRL_EBPF,
      cmd: VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_PROG,
      data: encodeEbpfProgCmd({ cmd: P.VIRTIO_NET_BPF_CMD_SET_OFFLOAD, gplCompatible: a.gplCompatible ? 1 : 0, insns: a.insns, meta: a.meta }),
      resultLen: RES + (a.logRoom ?? VIRTIO_NET_BPF_DEFAULT_LOG_ROOM),
    };
  },
  unsetOffload(): EbpfCtrlRequest {
    return {
      cls: CTRL_EBPF,
      cmd: VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_PROG,
      data: encodeEbpfProgCmd({ cmd: P.VIRTIO_NET_BPF_CMD_UNSET_OFFLOAD }),
      resultLen: room(0),
    };
  },
  createMap(a: { mapType: number; keySize: number; valueSize: number; maxEntries: number; mapFlags?: number; meta?: EbpfMapMeta }): EbpfCtrlRequest {
    return {
      cls: CTRL_EBPF,
      cmd: VIRTIO_NET_CTRL_EBPF_CMD.VIRTIO_NET_CTRL_EBPF_MAP,
      data: encodeEbpfMapCmd({ cmd: M.VIRTIO_NET_BPF_CMD_CREATE_MAP, ...a, meta: a.meta }),
      resultLen: room(4),
    };
  },
  freeMap(m: EbpfMapRef): EbpfCtrlRequest {
    return mapRequest(M.VIRTIO_NET_BPF_CMD_FREE_MAP, m, mapBuf(m), 0, 0);
  },
  updateElem(m: EbpfMapRef, key: Uint8Array, value: Uint8Array, flags: number | bigint = 0): EbpfCtrlRequest {
    return mapRequest(M.VIRTIO_NET_BPF_CMD_UPDATE_ELEM, m, mapBuf(m, key, value), flags, 0);
  },
  lookupElem(m: EbpfMapRef, key: Uint8Array): EbpfCtrlRequest {
    return mapRequest(M.VIRTIO_NET_BPF_CMD_LOOKUP_ELEM, m, mapBuf(m, key), 0, m.valueSize);
  },
  deleteElem(m: EbpfMapRef, key: Uint8Array): EbpfCtrlRequest {
    return mapRequest(M.VIRTIO_NET_BPF_CMD_DELETE_ELEM, m, mapBuf(m, key), 0, 0);
  },
  getFirst(m: EbpfMapRef): EbpfCtrlRequest {
    return mapRequest(M.VIRTIO_NET_BPF_CMD_GET_FIRST, m, mapBuf(m), 0, m.keySize);
  },
  getNext(m: EbpfMapRef, key: Uint8Array): EbpfCtrlRequest {
    return mapRequest(M.VIRTIO_NET_BPF_CMD_GET_NEXT, m, mapBuf(m, key), 0, m.keySize);
  },
} as const;

/** A reply as a driver reads it: the ack, then the decoded result when the device wrote one. */
export interface EbpfReply {
  ok: boolean;
  ack: number;
  /** 0 on success; the device's errno, or EIO-like 0 with ok=false when it wrote no result. */
  errno: number;
  data: Uint8Array;
  truncated: boolean;
  /** The result bytes were present but malformed. */
  malformed?: EbpfCtrlDecodeError;
}

/** Reads {ack, result} (from readCtrlReply or handle()). Never throws. */
export function readEbpfReply(reply: { ack: number; result: Uint8Array }): EbpfReply {
  const ok = reply.ack === 0;
  if (reply.result.length === 0) return { ok, ack: reply.ack, errno: 0, data: new Uint8Array(0), truncated: false };
  const r = decodeEbpfResult(reply.result);
  if (r instanceof EbpfCtrlDecodeError) return { ok: false, ack: reply.ack, errno: 0, data: new Uint8Array(0), truncated: false, malformed: r };
  return { ok: ok && r.errno === 0, ack: reply.ack, errno: r.errno, data: r.data, truncated: r.truncated };
}
