// BTF-typed pointers at run time (the kernel's PTR_TO_BTF_ID). vxo's kernel objects are TypeScript
// objects with no memory layout, so a pointer to one as `struct tcp_sock` is a small read-only
// region holding the struct's kernel layout (kernelBtf(): the offsets a vmlinux.h from vxo makes
// clang use), filled from the object at the moment the pointer is made (bpf_skc_to_tcp_sock, a
// pointer member read, bpf_cast_to_kern_ctx). Loads through it are then plain region loads on
// both engines, as the kernel's are plain loads of the struct.
//
// Only the fields a load may read are filled: the verifier's btfReads (every (struct, off, size) a
// PTR_TO_BTF_ID load of the program may execute); an unverified program gets every field. A field
// reads vxo's property at KernelField.model: numbers (signed or not, wrapped to the field's size),
// booleans (1-bit fields and bools), In6Addr (16 bytes in network order), an object for a pointer
// member (a view of the pointee: the same object and struct reuse one view within a run, so cycles
// end), a Uint8Array for byte arrays. __be fields are kept host-order by vxo and swapped here.
// Fields vxo does not model read 0, as do pointers to structs vxo does not describe.
//
// Two fields of a socket follow the kernel rather than vxo's object: skc_v6_daddr and
// skc_v6_rcv_saddr, which vxo keeps v4-mapped for every socket while the kernel sets them only
// where it does (an AF_INET listener's are 0): they are the host's struct bpf_sock dst_ip6/src_ip6,
// which the kernel's bpf_sock reads from those very fields. And inet_sock.pinet6, which vxo does
// not hold (its Sock is the ipv6_pinfo too): an AF_INET6 socket's points at the socket itself.
//
// A view made by a cast of a socket a slot holds (interp/sock-slots.ts) is tied to that slot: it
// shares the slot's reference (releasing either releases the socket) and is emptied with it, so
// a use after release faults in an unverified run. Every view is emptied when the run ends.
import { kernelBtf, type KernelField } from '../btf/kernel-btf.ts';
import { RuntimeFault } from '../errors.ts';
import { BPF_SOCK, BPF_SOCK_SIZE } from '../prog/bpf-sock.ts';
import type { BpfNetHost } from '../prog/sock-host.ts';
import type { BtfRead } from '../verifier/api.ts';
import { Region, regionTag } from './regions.ts';

/** BTF views one run may hold at once (pointer members count: a pointee gets a view of its own). */
export const MAX_BTF_VIEWS = 64;

/** Where a field's value comes from, when not from vxo's property alone. */
const SRC = { MODEL: 0, V6_SRC: 1, V6_DST: 2, PINET6: 3 } as const;
type Src = (typeof SRC)[keyof typeof SRC];

/** One field to fill: the field and how to read its value from vxo's object. */
interface FillStep {
  readonly f: KernelField;
  /** The value at the field's property path (compiled once: see propertyReader). */
  readonly get: (o: object) => unknown;
  /** For a pointer member: the pointee struct's id when vxo's kernel BTF describes it, else 0 (NULL). */
  readonly pointee: number;
  readonly src: Src;
}

/** What filling a struct writes: its steps, and the byte ranges to zero first ([start, end) pairs). */
interface Plan {
  readonly size: number;
  readonly steps: readonly FillStep[];
  readonly zeros: Int32Array;
}

const AF_INET6 = 10;

/** The structs whose objects are sockets (what the socket helpers may be handed). */
const SOCKET_STRUCTS: ReadonlySet<string> = new Set([
  'sock_common', 'sock', 'inet_sock', 'inet_connection_sock', 'tcp_sock', 'tcp6_sock', 'udp_sock', 'udp6_sock',
  'request_sock', 'inet_request_sock', 'tcp_request_sock', 'inet_timewait_sock', 'tcp_timewait_sock',
]);

const TWO32 = 4294967296;

/** The bytes a field occupies (a bitfield: the bytes holding its bits). */
const fieldStart = (f: KernelField): number => (f.bits !== undefined ? f.bitOffset! >> 3 : f.offset);
const fieldEnd = (f: KernelField): number => (f.bits !== undefined ? ((f.bitOffset! + f.bits - 1) >> 3) + 1 : f.offset + f.size);

/** Sorted, merged [start, end) pairs. */
function mergeRanges(ranges: [number, number][]): Int32Array {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [a, b] of ranges) {
    if (b <= a) continue;
    const n = out.length;
    if (n > 0 && a <= out[n - 1]!) out[n - 1] = Math.max(out[n - 1]!, b);
    else out.push(a, b);
  }
  return Int32Array.from(out);
}

type In6Like = { readonly w0: number; readonly w1: number; readonly w2: number; readonly w3: number };
const isIn6 = (v: object): v is In6Like => typeof (v as { w0?: unknown }).w0 === 'number' && typeof (v as { w3?: unknown }).w3 === 'number';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The reader of a property path: each segment in turn, stopping at a value that is not an object
 * or (`stopAtIn6`) at an address, so a number met on the way is the value (vxo keeps atomic64_t
 * skc_cookie as a plain number: skc_cookie.counter reads skc_cookie). Compiled to straight property
 * loads, one function per field: a pointer is made per packet, and a generic walk over keys
 * computed at run time costs several times more.
 */
function propertyReader(path: readonly string[], stopAtIn6: boolean): (o: object) => unknown {
  if (!path.every((k) => IDENT.test(k))) {
    return (o) => {
      let v: unknown = o;
      for (const k of path) {
        if (v === null || typeof v !== 'object' || (stopAtIn6 && isIn6(v))) break;
        v = (v as Record<string, unknown>)[k];
      }
      return v;
    };
  }
  const stop = `if (v === null || typeof v !== 'object'${stopAtIn6 ? ' || isIn6(v)' : ''}) return v; `;
  const body = path.map((k, i) => `${i === 0 ? '' : stop}v = v.${k}; `).join('');
  return new Function('isIn6', `return function (o) { let v = o; ${body}return v; };`)(isIn6) as (o: object) => unknown;
}

export class BtfViews {
  private readonly regions: (Region | undefined)[] = [];
  private readonly objs: (object | null)[] = [];
  private readonly structIds: number[] = [];
  /** The sock slot index whose reference the view shares, or -1. */
  private readonly ties: number[] = [];
  /** The fill pass that last filled the view (a pass fills each view once: cycles end). */
  private readonly filledIn: number[] = [];
  private pass = 0;
  private used = 0;
  /** The stack of the make() in progress (a socket's v6 addresses are its answer). */
  private host: BpfNetHost | undefined = undefined;
  /** The host's struct bpf_sock of the socket being filled, and which object it is of. */
  private readonly bsock = new DataView(new ArrayBuffer(BPF_SOCK_SIZE));
  private bsockOf: object | null = null;
  /** Fields per struct id: from btfReads, or (undefined reads) every field. */
  private readonly plans = new Map<number, Plan>();
  /** Every field per struct id (what a helper's read of any bytes may need). */
  private readonly every = new Map<number, Plan>();
  private reads: readonly BtfRead[] | undefined = undefined;

  constructor(
    /** The environment's region table; view i is region firstId + i. */
    private readonly table: (Region | undefined)[],
    readonly firstId: number,
  ) {}

  /** The loads the program may make through BTF pointers (VerifyResult.btfReads); undefined: unverified, fill every field. */
  setReads(reads: readonly BtfRead[] | undefined): void {
    this.reads = reads;
    this.plans.clear();
  }

  /** Whether a pointer's high half names a view (live or emptied). */
  owns(hi: number): boolean {
    const i = (hi & 0xffff) - this.firstId;
    return (hi >>> 16) === 0xffff && i >= 0 && i < MAX_BTF_VIEWS;
  }

  /**
   * A pointer to `obj` as struct `structId` (its high half; the low half is 0). `tie`: the sock
   * slot whose reference the pointer shares (-1: none). The same object, struct and tie reuse one
   * view, filled again from the object. `host`: the stack the object is of (a socket's view asks it
   * for the fields vxo keeps otherwise than the kernel).
   */
  make(obj: object, structId: number, tie: number, pc: number, host?: BpfNetHost): number {
    this.pass++;
    this.host = host;
    this.bsockOf = null;
    const i = this.viewOf(obj, structId, tie);
    if (i < 0) throw new RuntimeFault(pc, `more than ${MAX_BTF_VIEWS} BTF pointers held at once`);
    this.fill(i);
    return regionTag(this.firstId + i);
  }

  /**
   * Fills the fields of a live view that overlap [off, off + size) from its object: a helper reads
   * bytes no load of the program named (bpf_probe_read_kernel, which BPF_CORE_READ compiles to).
   */
  fillRange(hi: number, off: number, size: number, host: BpfNetHost | undefined): void {
    const i = this.index(hi);
    if (i < 0) return;
    this.pass++;
    this.host = host;
    this.bsockOf = null;
    this.filledIn[i] = this.pass;
    const r = this.regions[i]!, obj = this.objs[i]!;
    const end = Math.min(off + size, r.hi);
    if (off >= end) return;
    r.u8.fill(0, off, end);
    const steps = this.steps(this.structIds[i]!, undefined).steps;
    for (let k = 0; k < steps.length; k++) {
      const f = steps[k]!.f;
      const a = fieldStart(f), b = fieldEnd(f);
      if (a < end && b > off) {
        r.u8.fill(0, a, b);
        this.fillField(r, obj, steps[k]!);
      }
    }
  }

  /** The object a live view shows, if it is a socket (what the socket helpers take), else undefined. */
  sockOf(hi: number): object | undefined {
    const i = this.index(hi);
    if (i < 0) return undefined;
    const s = kernelBtf().struct(this.structIds[i]!);
    return s !== undefined && SOCKET_STRUCTS.has(s.name) ? (this.objs[i] ?? undefined) : undefined;
  }

  /** The object a live view shows, whatever its struct. */
  objectOf(hi: number): object | undefined {
    const i = this.index(hi);
    return i < 0 ? undefined : (this.objs[i] ?? undefined);
  }

  /** The sock slot a live view shares its reference with (-1: none, or not a live view). */
  tieOf(hi: number): number {
    const i = this.index(hi);
    return i < 0 ? -1 : this.ties[i]!;
  }

  /** Empties a view (a release through a view that holds no reference). False if it was none. */
  release(hi: number): boolean {
    const i = this.index(hi);
    if (i < 0) return false;
    this.free(i);
    return true;
  }

  /** The slot `slot` was released: its views go with it. */
  dropTie(slot: number): void {
    for (let i = 0; i < this.used; i++) if (this.objs[i] !== null && this.ties[i] === slot) this.free(i);
  }

  /** At the end of a run. */
  reset(): void {
    for (let i = 0; i < this.used; i++) if (this.objs[i] !== null) this.free(i);
    this.used = 0;
  }

  get inUse(): number {
    return this.used;
  }

  private index(hi: number): number {
    const i = (hi & 0xffff) - this.firstId;
    if ((hi >>> 16) !== 0xffff || i < 0 || i >= this.used || this.objs[i] === null) return -1;
    return i;
  }

  /** The view of (obj, structId, tie): an existing one, or a new one (-1 when all are taken). */
  private viewOf(obj: object, structId: number, tie: number): number {
    let free = -1;
    for (let i = 0; i < this.used; i++) {
      const o = this.objs[i];
      if (o === obj && this.structIds[i] === structId && this.ties[i] === tie) return i;
      if (o === null && free < 0) free = i;
    }
    if (free < 0) {
      if (this.used >= MAX_BTF_VIEWS) return -1;
      free = this.used++;
    }
    const size = this.steps(structId, this.reads).size;
    let r = this.regions[free];
    if (r === undefined) {
      const id = this.firstId + free;
      r = new Region(id, 'btf', 'btf', new Uint8Array(Math.max(size, 8)), false);
      this.regions[free] = r;
      this.table[id] = r;
    } else if (r.u8.byteLength < size) {
      r.rebind(new Uint8Array(size));
    }
    this.objs[free] = obj;
    this.structIds[free] = structId;
    this.ties[free] = tie;
    this.filledIn[free] = 0;
    r.lo = 0;
    r.hi = 0;
    return free;
  }

  private free(i: number): void {
    this.objs[i] = null;
    this.ties[i] = -1;
    const r = this.regions[i];
    if (r !== undefined) { r.lo = 0; r.hi = 0; }
    while (this.used > 0 && this.objs[this.used - 1] === null) this.used--;
  }

  /** Writes the view's struct from its object (each view once per pass). */
  private fill(i: number): void {
    if (this.filledIn[i] === this.pass) return;
    this.filledIn[i] = this.pass;
    const r = this.regions[i]!;
    const obj = this.objs[i]!;
    const plan = this.steps(this.structIds[i]!, this.reads);
    // Only what the loads may read is written: those bytes are zeroed, then the fields filled.
    const z = plan.zeros, u8 = r.u8;
    for (let k = 0; k < z.length; k += 2) u8.fill(0, z[k]!, z[k + 1]!);
    const steps = plan.steps;
    for (let k = 0; k < steps.length; k++) this.fillField(r, obj, steps[k]!);
    r.lo = 0;
    r.hi = plan.size;
  }

  private fillField(r: Region, obj: object, step: FillStep): void {
    const f = step.f;
    if (step.src === SRC.V6_SRC || step.src === SRC.V6_DST) {
      const host = this.host;
      if (host !== undefined && f.size >= 16) {
        if (this.bsockOf !== obj) {
          for (let k = 0; k < BPF_SOCK_SIZE; k += 4) this.bsock.setUint32(k, 0);
          host.fill_bpf_sock(obj, this.bsock, 0);
          this.bsockOf = obj;
        }
        const from = step.src === SRC.V6_SRC ? BPF_SOCK.src_ip6 : BPF_SOCK.dst_ip6;
        for (let k = 0; k < 16; k += 4) r.dv.setUint32(f.offset + k, this.bsock.getUint32(from + k));
        return;
      }
    }
    if (step.src === SRC.PINET6) {
      if ((obj as { skc_family?: unknown }).skc_family !== AF_INET6 || step.pointee === 0) return;
      const j = this.viewOf(obj, step.pointee, -1);
      if (j < 0) return;
      this.fill(j);
      r.dv.setInt32(f.offset, 0, true);
      r.dv.setInt32(f.offset + 4, regionTag(this.firstId + j), true);
      return;
    }
    const v = step.get(obj);
    if (v === undefined || v === null) return;
    const dv = r.dv, off = f.offset;
    if (f.kind === 'ptr') {
      if (typeof v !== 'object' || step.pointee === 0) return;
      const j = this.viewOf(v, step.pointee, -1);
      // Out of views: the member reads NULL (a probe load through it reads 0, as the kernel's would).
      if (j < 0) return;
      this.fill(j);
      dv.setInt32(off, 0, true);
      dv.setInt32(off + 4, regionTag(this.firstId + j), true);
      return;
    }
    if (typeof v === 'object') {
      if (isIn6(v)) {
        if (f.size < 16) return;
        dv.setUint32(off, v.w0);
        dv.setUint32(off + 4, v.w1);
        dv.setUint32(off + 8, v.w2);
        dv.setUint32(off + 12, v.w3);
      } else if (v instanceof Uint8Array) {
        r.u8.set(v.subarray(0, Math.min(v.byteLength, f.size)), off);
      }
      return;
    }
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'boolean') n = v ? 1 : 0;
    else if (typeof v === 'bigint') {
      dv.setBigUint64(off, BigInt.asUintN(64, v), !f.bigEndian);
      return;
    } else return;
    if (f.bits !== undefined) {
      // SysV on a little-endian target: bit b of the struct is bit (b & 7) of byte (b >> 3).
      const u8 = r.u8, at = f.bitOffset!;
      for (let b = 0; b < f.bits; b++) {
        const pos = at + b, byte = pos >> 3, mask = 1 << (pos & 7);
        if (((n >>> b) & 1) !== 0) u8[byte] = u8[byte]! | mask;
        else u8[byte] = u8[byte]! & ~mask;
      }
      return;
    }
    const le = !f.bigEndian;
    switch (f.size) {
      case 1: dv.setInt8(off, n); break;
      case 2: dv.setInt16(off, n, le); break;
      case 4: dv.setInt32(off, n, le); break;
      case 8: {
        const lo = n >>> 0, hi = Math.floor(n / TWO32) | 0;
        dv.setInt32(off + (le ? 0 : 4), lo, le);
        dv.setInt32(off + (le ? 4 : 0), hi, le);
        break;
      }
      default: break;
    }
  }

  /** The fields of `structId` that `reads` overlap (undefined: all of them), and what to zero, cached per struct. */
  private steps(structId: number, reads: readonly BtfRead[] | undefined): Plan {
    const cache = reads === undefined ? this.every : this.plans;
    const known = cache.get(structId);
    if (known !== undefined) return known;
    const kb = kernelBtf();
    const s = kb.struct(structId);
    const out: FillStep[] = [];
    const ranges: [number, number][] = [];
    if (s !== undefined) {
      if (reads === undefined) ranges.push([0, s.size]);
      else for (const rd of reads) if (rd.structId === structId) ranges.push([Math.max(0, rd.off), Math.min(s.size, rd.off + rd.size)]);
      for (const f of s.fields) {
        const first = fieldStart(f), end = fieldEnd(f);
        if (reads !== undefined && !reads.some((rd) => rd.structId === structId && rd.off < end && rd.off + rd.size > first)) continue;
        if (reads !== undefined) ranges.push([first, end]);
        const pointee = f.kind === 'ptr' && f.pointee !== undefined && kb.struct(f.pointee) !== undefined ? f.pointee : 0;
        const path = f.model.split('.');
        const root = path[0];
        const src = root === 'skc_v6_rcv_saddr' ? SRC.V6_SRC : root === 'skc_v6_daddr' ? SRC.V6_DST
          : f.kind === 'ptr' && root === 'pinet6' ? SRC.PINET6 : SRC.MODEL;
        out.push({ f, get: propertyReader(path, f.kind !== 'ptr'), pointee, src });
      }
    }
    const plan: Plan = { size: s?.size ?? 0, steps: out, zeros: mergeRanges(ranges) };
    cache.set(structId, plan);
    return plan;
  }
}
