// BPF_PROG_TEST_RUN for tc and socket filter programs, as the kernel's bpf_prog_test_run_skb does
// it (net/bpf/test_run.c): data_in (at least ETH_HLEN) copied after NET_SKB_PAD of headroom,
// eth_type_trans on the loopback device (ifindex 1) sets protocol and pkt_type and pulls the
// Ethernet header; tc sees skb->data at the link header again, a socket filter at the network
// header. ctx_in may set only the __sk_buff fields convert___skb_to_skb reads (others non-zero:
// EINVAL); ctx_out gives back what convert_skb_to___skb writes. data_out is the packet after the
// last run from the link header (a socket filter's gets ETH_HLEN zero bytes in front, as the
// kernel pushes and clears them). `repeat` runs share the skb, as in the kernel.
//
// One difference: the kernel gives the skb a dummy socket (an AF_INET or AF_INET6 sock of the
// packet's addresses), so __sk_buff->sk is not NULL there; vxo has no socket to give without a
// network stack, and the program reads NULL.
import { BpfError } from '../errors.ts';
import type { EngineName } from '../engines.ts';
import { SK_BUFF, SK_BUFF_CB_SIZE, SK_BUFF_SIZE } from './bpf-sock.ts';
import type { Program } from './program.ts';
import type { SkbWithShinfo } from './skb-ctx.ts';
import { SkbProgramRunner, type SkbRunnerOptions } from './skb-runner.ts';
import { BPF_PROG_TYPE } from './types.ts';

export interface SkbTestRunOptions extends SkbRunnerOptions {
  dataIn: Uint8Array;
  /** ctx_in: struct __sk_buff (only the fields the kernel lets a test set; others EINVAL). */
  ctxIn?: Uint8Array;
  ctxOut?: boolean;
  repeat?: number;
  engine?: EngineName;
}

export interface SkbTestRunResult {
  retval: number;
  dataOut: Uint8Array;
  ctxOut?: Uint8Array;
  durationNs: number;
  repeat: number;
}

const ETH_HLEN = 14;
/** NET_SKB_PAD + NET_IP_ALIGN (x86-64: 64 + 0): the headroom the test skb is built with. */
const TEST_SKB_HEADROOM = 64;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): the tail of the allocation the skb may not use. */
const SKB_SHARED_INFO_SIZE = 320;
const PAGE_SIZE = 4096;
/** GSO_LEGACY_MAX_SIZE and GSO_MAX_SEGS: the bounds on ctx_in's wire_len and gso_segs. */
const GSO_LEGACY_MAX_SIZE = 65536;
const GSO_MAX_SEGS = 65535;
const ETH_P_802_3_MIN = 0x0600;
const ETH_P_802_3 = 0x0001;
const ETH_P_802_2 = 0x0004;
const PACKET_HOST = 0;
const PACKET_MULTICAST = 2;
const PACKET_OTHERHOST = 3;
/** The test run's namespace: its loopback device, whose address is all zeros. */
const LOOPBACK = { ifindex: 1 } as const;

const einval = (msg: string): BpfError => new BpfError('EINVAL', msg);

/** kmalloc's size classes: the allocation behind the skb, whose slack is tail room (ksize). */
function kmallocSize(n: number): number {
  if (n <= 96 && n > 64) return 96;
  if (n <= 192 && n > 128) return 192;
  let s = 8;
  while (s < n && s < 8192) s <<= 1;
  return s >= n ? s : Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;
}

/** The test's skb: a BpfSkb with the shared-info and qdisc fields ctx_in sets. */
class TestSkb implements SkbWithShinfo {
  head: Uint8Array;
  view: DataView;
  data = TEST_SKB_HEADROOM;
  tail: number;
  end: number;
  len: number;
  mac_header = -1;
  network_header = -1;
  transport_header = -1;
  mac_len = 0;
  protocol = 0;
  pkt_type = PACKET_HOST;
  mark = 0;
  priority = 0;
  queue_mapping = 0;
  hash = 0;
  tc_index = 0;
  tc_classid = 0;
  /** skb->tstamp kept exact (any u64 of ctx_in), tstamp its value as a number. */
  tstamp_lo = 0;
  tstamp_hi = 0;
  get tstamp(): number {
    return (this.tstamp_hi >>> 0) * 4294967296 + (this.tstamp_lo >>> 0);
  }
  set tstamp(v: number) {
    this.tstamp_lo = v % 4294967296 | 0;
    this.tstamp_hi = Math.floor(v / 4294967296) | 0;
  }
  skb_iif = 0;
  meta_len = 0;
  readonly bpf_cb = new Uint8Array(SK_BUFF_CB_SIZE);
  readonly dev = LOOPBACK;
  sk = null;
  gso_segs = 0;
  gso_size = 0;
  hwtstamp = 0n;
  /** qdisc_skb_cb's pkt_len: 0 unless ctx_in or ctx_out made the kernel fill it. */
  wire_len = 0;

  constructor(dataIn: Uint8Array) {
    const size = dataIn.byteLength;
    const alloc = kmallocSize(TEST_SKB_HEADROOM + size + SKB_SHARED_INFO_SIZE);
    this.end = alloc - SKB_SHARED_INFO_SIZE;
    this.head = new Uint8Array(this.end);
    this.view = new DataView(this.head.buffer);
    this.head.set(dataIn, this.data);
    this.len = size;
    this.tail = this.data + size;
  }
}

/**
 * eth_type_trans on the loopback device: pkt_type from the destination, protocol, pull ETH_HLEN.
 * lo's address and its broadcast address are both all zeros: all zeros is PACKET_HOST, so no frame
 * is ever PACKET_BROADCAST there; ff:ff:ff:ff:ff:ff is one more multicast address.
 */
function ethTypeTrans(skb: TestSkb): void {
  const h = skb.head, d = skb.data;
  skb.mac_header = d;
  let zero = true;
  for (let i = 0; i < 6; i++) if (h[d + i] !== 0) zero = false;
  if (!zero) skb.pkt_type = (h[d]! & 1) !== 0 ? PACKET_MULTICAST : PACKET_OTHERHOST;
  skb.data += ETH_HLEN;
  skb.len -= ETH_HLEN;
  const proto = skb.view.getUint16(d + 12, false);
  if (proto >= ETH_P_802_3_MIN) skb.protocol = proto;
  // A length field, not a type: raw 802.3 (IPX's 0xffff) or 802.2 LLC.
  else skb.protocol = skb.len >= 2 && skb.view.getUint16(skb.data, false) === 0xffff ? ETH_P_802_3 : ETH_P_802_2;
}

/** bpf_ctx_init: ctx_in zero-extended to struct __sk_buff; longer only with zeros (E2BIG). */
function ctxInit(bytes: Uint8Array | undefined, wanted: boolean): Uint8Array | undefined {
  if (bytes === undefined) return wanted ? new Uint8Array(SK_BUFF_SIZE) : undefined;
  if (bytes.byteLength > PAGE_SIZE) throw new BpfError('E2BIG', `ctx_in of ${bytes.byteLength} bytes: larger than a page`);
  for (let i = SK_BUFF_SIZE; i < bytes.byteLength; i++) {
    if (bytes[i] !== 0) throw new BpfError('E2BIG', `ctx_in of ${bytes.byteLength} bytes: struct __sk_buff has ${SK_BUFF_SIZE}, and byte ${i} past it is not zero`);
  }
  const ctx = new Uint8Array(SK_BUFF_SIZE);
  ctx.set(bytes.subarray(0, SK_BUFF_SIZE));
  return ctx;
}

/** The byte ranges of struct __sk_buff convert___skb_to_skb reads; everything else must be zero. */
const SETTABLE: readonly (readonly [number, number, string])[] = [
  [SK_BUFF.mark, 4, 'mark'], [SK_BUFF.priority, 4, 'priority'], [SK_BUFF.ingress_ifindex, 4, 'ingress_ifindex'],
  [SK_BUFF.ifindex, 4, 'ifindex'], [SK_BUFF.cb, SK_BUFF_CB_SIZE, 'cb'], [SK_BUFF.tstamp, 8, 'tstamp'],
  [SK_BUFF.wire_len, 4, 'wire_len'], [SK_BUFF.gso_segs, 4, 'gso_segs'], [SK_BUFF.gso_size, 4, 'gso_size'],
  [SK_BUFF.hwtstamp, 8, 'hwtstamp'],
];

function fieldAt(off: number): string {
  const e = Object.entries(SK_BUFF).filter(([, o]) => o <= off).sort((a, b) => b[1] - a[1])[0];
  return e === undefined ? `offset ${off}` : `${e[0]} (offset ${off})`;
}

function checkZeroOutsideSettable(ctx: Uint8Array): void {
  for (let i = 0; i < SK_BUFF_SIZE; i++) {
    if (ctx[i] === 0 || SETTABLE.some(([o, w]) => i >= o && i < o + w)) continue;
    throw einval(`ctx_in: ${fieldAt(i)} cannot be set by a test run (only mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs, gso_size and hwtstamp)`);
  }
}


/** convert___skb_to_skb (after the ifindex > 1 device lookup, done by the caller). */
function applyCtx(skb: TestSkb, ctx: Uint8Array): void {
  const dv = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  checkZeroOutsideSettable(ctx);
  skb.mark = dv.getUint32(SK_BUFF.mark, true);
  skb.priority = dv.getUint32(SK_BUFF.priority, true);
  skb.skb_iif = dv.getUint32(SK_BUFF.ingress_ifindex, true);
  skb.tstamp_lo = dv.getInt32(SK_BUFF.tstamp, true);
  skb.tstamp_hi = dv.getInt32(SK_BUFF.tstamp + 4, true);
  skb.bpf_cb.set(ctx.subarray(SK_BUFF.cb, SK_BUFF.cb + SK_BUFF_CB_SIZE));
  const wire = dv.getUint32(SK_BUFF.wire_len, true);
  if (wire === 0) skb.wire_len = skb.len;
  else {
    if (wire < skb.len || wire > GSO_LEGACY_MAX_SIZE) throw einval(`ctx_in: wire_len ${wire} must be 0 or ${skb.len}..${GSO_LEGACY_MAX_SIZE}`);
    skb.wire_len = wire;
  }
  const segs = dv.getUint32(SK_BUFF.gso_segs, true);
  if (segs > GSO_MAX_SEGS) throw einval(`ctx_in: gso_segs ${segs} is above GSO_MAX_SEGS (${GSO_MAX_SEGS})`);
  skb.gso_segs = segs;
  skb.gso_size = dv.getUint32(SK_BUFF.gso_size, true);
  skb.hwtstamp = dv.getBigUint64(SK_BUFF.hwtstamp, true);
}

/** convert_skb_to___skb: the fields a test run reports; the rest stay as ctx_in gave them. */
function reportCtx(skb: TestSkb, ctx: Uint8Array): void {
  const dv = new DataView(ctx.buffer, ctx.byteOffset, ctx.byteLength);
  dv.setUint32(SK_BUFF.mark, skb.mark >>> 0, true);
  dv.setUint32(SK_BUFF.priority, skb.priority >>> 0, true);
  dv.setUint32(SK_BUFF.ingress_ifindex, skb.skb_iif >>> 0, true);
  dv.setUint32(SK_BUFF.ifindex, skb.dev.ifindex, true);
  dv.setInt32(SK_BUFF.tstamp, skb.tstamp_lo, true);
  dv.setInt32(SK_BUFF.tstamp + 4, skb.tstamp_hi, true);
  ctx.set(skb.bpf_cb, SK_BUFF.cb);
  dv.setUint32(SK_BUFF.wire_len, skb.wire_len >>> 0, true);
  dv.setUint32(SK_BUFF.gso_segs, skb.gso_segs >>> 0, true);
  // hwtstamp goes back as it came: no program can write it, and its bytes stay exact.
}

export function bpfProgTestRunSkb(prog: Program, opts: SkbTestRunOptions): SkbTestRunResult {
  // Verified at load, before a test run looks at its input.
  const runner = new SkbProgramRunner(prog, opts);
  const size = opts.dataIn.byteLength;
  if (size < ETH_HLEN) throw einval(`data_in of ${size} bytes: BPF_PROG_TEST_RUN for skb programs needs at least ETH_HLEN (${ETH_HLEN})`);
  const ctx = ctxInit(opts.ctxIn, opts.ctxOut === true);
  const isL2 = prog.type === BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS || prog.type === BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT;
  const skb = new TestSkb(opts.dataIn);
  if (ctx !== undefined) {
    const ifindex = new DataView(ctx.buffer).getUint32(SK_BUFF.ifindex, true);
    if (ifindex > LOOPBACK.ifindex) throw new BpfError('ENODEV', `ctx_in: ifindex ${ifindex}: no such device (the test run's namespace has lo, ifindex 1)`);
  }
  ethTypeTrans(skb);
  skb.network_header = skb.data;
  if (isL2) { skb.data -= ETH_HLEN; skb.len += ETH_HLEN; }
  if (ctx !== undefined) applyCtx(skb, ctx);
  const repeat = Math.max(1, Math.floor(opts.repeat ?? 1));
  let retval = 0;
  const t0 = performance.now();
  // Not tc's ingress hook: the kernel's test run leaves tc_at_ingress clear (bpf_sk_assign refuses).
  for (let i = 0; i < repeat; i++) retval = runner.run(skb, false);
  const t1 = performance.now();
  if (!isL2) {
    // The kernel pushes a cleared link header in front of what the filter saw.
    if (skb.data < ETH_HLEN) {
      const head = new Uint8Array(skb.end + ETH_HLEN);
      head.set(skb.head, ETH_HLEN);
      skb.head = head;
      skb.view = new DataView(head.buffer);
      skb.data += ETH_HLEN; skb.tail += ETH_HLEN; skb.end += ETH_HLEN;
    }
    skb.data -= ETH_HLEN;
    skb.len += ETH_HLEN;
    skb.head.fill(0, skb.data, skb.data + ETH_HLEN);
  }
  const res: SkbTestRunResult = {
    retval,
    dataOut: skb.head.slice(skb.data, skb.data + skb.len),
    durationNs: Math.round(((t1 - t0) * 1e6) / repeat),
    repeat,
  };
  if (ctx !== undefined) {
    reportCtx(skb, ctx);
    res.ctxOut = ctx;
  }
  return res;
}
