// Everything one execution of a program touches: registers, address space, maps, the packet.
// Engines and helpers share it, so a helper behaves the same under the interpreter and the JIT.
import { BPF_MAP_FLAG, BPF_MAP_TYPE, type BpfMap } from '../maps/map.ts';
import { RuntimeFault } from '../errors.ts';
import { helperMemFault, helperReadOnlyFault } from './faults.ts';
import type { XdpBuff } from '../prog/xdp.ts';
import { formatPointer, isMapPtrTag, isRegionTag, REGION_ID, Region } from './regions.ts';
import type { BpfNetHost, BpfSkb, BpfSkLookupKern } from '../prog/sock-host.ts';
import { SockSlots } from './sock-slots.ts';

/** Largest key a program can pass (it lives on the 512-byte stack), and callback nesting depth. */
export const MAX_KEY_SIZE = 512;
export const MAX_KEY_NESTING = 8;

export type TraceSink = (line: string) => void;
/** Loads `size` bytes at offset `off` of the context into register index `d` (doubled); false if invalid. */
export type CtxLoad = (env: ExecEnv, off: number, size: number, d: number) => boolean;

/** Where an XDP program asked its packet to go (bpf_redirect / bpf_redirect_map). */
export interface RedirectTarget {
  /** The target device; 0 when nothing was chosen (a redirect that fails) or for a broadcast. */
  ifindex: number;
  /** The DEVMAP used, when the redirect went through bpf_redirect_map. */
  map: BpfMap | undefined;
  key: number;
  /** BPF_F_BROADCAST: every device in `map` (BPF_F_EXCLUDE_INGRESS: but the one it came in on). */
  broadcast: boolean;
  excludeIngress: boolean;
}

export function clearRedirect(r: RedirectTarget): void {
  r.ifindex = 0;
  r.map = undefined;
  r.key = 0;
  r.broadcast = false;
  r.excludeIngress = false;
}

/** Programs may not write .rodata-like maps, nor device maps' entries (the kernel sets RDONLY_PROG). */
export function writableByPrograms(m: BpfMap): boolean {
  const t = m.spec.type;
  if (t === BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP || t === BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH) return false;
  // A socket map's values are the sockets' cookies: programs reach them only through the helpers.
  if (t === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKMAP || t === BPF_MAP_TYPE.BPF_MAP_TYPE_SOCKHASH) return false;
  return (m.spec.flags & BPF_MAP_FLAG.BPF_F_RDONLY_PROG) === 0;
}

/** Runs bpf_tail_call's target (prog/tail-call.ts); false when there is none to run. */
export interface TailCallRunner {
  call(env: ExecEnv, map: BpfMap, index: number): boolean;
}

export class ExecEnv {
  /** r0..r10 as (lo, hi) int32 pairs: R[2*i] is the low half of ri. */
  readonly R = new Int32Array(22);
  /** Memory regions by id (see REGION_ID); map value regions follow in program map order. */
  readonly regions: (Region | undefined)[] = [];
  /** The program's maps, by the index ld_imm64 map pointers carry. */
  readonly maps: BpfMap[];
  /** The CPU this run is on, for PERCPU maps and bpf_get_smp_processor_id. */
  cpu = 0;
  /** The program counter of the instruction being executed, for faults raised inside helpers. */
  pc = 0;
  xdp: XdpBuff | undefined = undefined;
  redirect: RedirectTarget = { ifindex: 0, map: undefined, key: 0, broadcast: false, excludeIngress: false };
  trace: TraceSink = () => {};
  /** The program type's context loads (xdp_md fields become packet pointers); false = invalid access. */
  ctxLoad: CtxLoad = () => false;
  private prandomState: number;
  /** Tail calls made so far in this run's chain (MAX_TAIL_CALL_CNT caps it). */
  tailCallCount = 0;
  /** Set by bpf_tail_call once its target ran: the engine leaves the current frame with r0 as it is. */
  tailCalled = false;
  /** What runs tail-call targets for this environment (set by the runner; none: every tail call fails). */
  tailCaller: TailCallRunner | undefined = undefined;
  /** Output of resolveMem: the offset into the returned region. */
  addr = 0;
  /**
   * Runs the function starting at instruction `target` as a callback (bpf_loop, bpf_for_each_map_elem):
   * r1-r5 from R[2..11], a frame above the caller's, r0 left in R[0..1], the caller's r6-r10 kept.
   * Set by the engine running the program.
   */
  callFunc: (target: number) => void = (target) => { throw this.fault(`no engine to run the callback at insn ${target}`); };
  /** Keys handed to bpf_for_each_map_elem callbacks (PTR_TO_MAP_KEY): read-only, one slice per nesting. */
  readonly keyRegion: Region;
  /** Nested bpf_for_each_map_elem walks in progress (which slice of keyRegion is free). */
  keyDepth = 0;
  /** The network stack the program runs in (socket helpers, fib_lookup); undefined: a netns with no sockets. */
  netHost: BpfNetHost | undefined = undefined;
  /** tc and socket filter runs: the skb behind struct __sk_buff. */
  skb: BpfSkb | undefined = undefined;
  /** SK_LOOKUP runs: the lookup behind struct bpf_sk_lookup. */
  skLookup: BpfSkLookupKern | undefined = undefined;
  /** skb_at_tc_ingress: the skb run is at tc's ingress hook (bpf_sk_assign and the kfunc need it). */
  skbAtIngress = false;
  /** tc: BPF_F_INGRESS of the last bpf_redirect (the target device is redirect.ifindex). */
  redirectFlags = 0;
  /**
   * Socket pointers handed to the program (interp/sock-slots.ts), regions after the key region, and
   * beside them the BTF-typed pointers (socks.views, interp/btf-views.ts).
   */
  readonly socks: SockSlots;

  constructor(maps: readonly BpfMap[], seed = 0x2545f491) {
    this.maps = [...maps];
    this.prandomState = seed | 0 || 1;
    this.regions[REGION_ID.STACK] = new Region(REGION_ID.STACK, 'stack', 'stack', new Uint8Array(8 * 512), true);
    this.maps.forEach((m, i) => {
      const id = REGION_ID.FIRST_MAP + i;
      this.regions[id] = new Region(id, 'map_value', m.spec.name, m.values, writableByPrograms(m));
    });
    const keyId = REGION_ID.FIRST_MAP + this.maps.length;
    this.keyRegion = new Region(keyId, 'map_key', 'map_key', new Uint8Array(MAX_KEY_NESTING * MAX_KEY_SIZE), false);
    this.regions[keyId] = this.keyRegion;
    this.socks = new SockSlots(this.regions, keyId + 1);
  }

  /** xorshift32: fast, seedable, so runs can be reproduced. */
  prandom(): number {
    let x = this.prandomState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.prandomState = x;
    return x >>> 0;
  }

  /**
   * Checks that [ptr, ptr+size) lies in an accessible region, for helpers; returns the region and
   * leaves the offset in `this.addr`. A helper given a bad pointer faults like a bad load would.
   */
  resolveMem(lo: number, hi: number, size: number, write: boolean, what: string): Region {
    const r = isRegionTag(hi) ? this.regions[hi & 0xffff] : undefined;
    const a = lo >>> 0;
    if (r === undefined || r.id === REGION_ID.CTX || a < r.lo || a + size > r.hi || size < 0) {
      throw helperMemFault(this.pc, what, size, lo, hi, r);
    }
    if (write && !r.writable) throw helperReadOnlyFault(this.pc, what, r);
    this.addr = a;
    return r;
  }

  /** The map a const map pointer names. */
  resolveMap(lo: number, hi: number, what: string): BpfMap {
    const m = isMapPtrTag(hi) && lo === 0 ? this.maps[hi & 0xffff] : undefined;
    if (m === undefined) throw this.fault(`${what}: ${formatPointer(lo, hi)} is not a map pointer`);
    return m;
  }

  setR0(lo: number, hi: number): void {
    this.R[0] = lo;
    this.R[1] = hi;
  }

  /** r0 = a signed 32-bit result (errno or count), sign-extended as the kernel's long return. */
  setR0Int(v: number): void {
    this.R[0] = v | 0;
    this.R[1] = (v | 0) >> 31;
  }

  fault(message: string): RuntimeFault {
    return new RuntimeFault(this.pc, message);
  }
}
