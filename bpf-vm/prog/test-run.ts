// BPF_PROG_TEST_RUN for XDP, as the kernel does it (net/bpf/test_run.c): the packet placed after
// XDP_PACKET_HEADROOM in a page-sized frame, ingress on the loopback device (ifindex 1, queue 0),
// `repeat` runs on the same buffer without resetting it, data_out from data_meta to data_end.
// An optional ctx_in (struct xdp_md) puts metadata in front of the frame and chooses the receive
// queue, and ctx_out reports where data and data_end ended up (xdp-md.ts).
import type { EngineName } from '../engines.ts';
import { BpfError } from '../errors.ts';
import type { RedirectTarget } from '../interp/env.ts';
import type { Program } from './program.ts';
import { ETH_HLEN, SKB_SHARED_INFO_SIZE, XDP_FRAME_SIZE, XDP_META_MAX, XDP_PACKET_HEADROOM, type XdpBuff } from './xdp.ts';
import { decodeXdpMd, encodeXdpMd, type XdpMd } from './xdp-md.ts';
import { XdpProgramRunner, type XdpRunnerOptions } from './xdp-runner.ts';

const PAGE_SIZE = 4096;
export const TEST_RUN_MAX_DATA = PAGE_SIZE - XDP_PACKET_HEADROOM - SKB_SHARED_INFO_SIZE;

/** The test run's network namespace as vxo models it: the loopback device and its one receive queue. */
const LOOPBACK = { name: 'lo', ifindex: 1, rxQueues: 1 } as const;

export interface TestRunOptions extends XdpRunnerOptions {
  dataIn: Uint8Array;
  /**
   * ctx_in: struct xdp_md, 24 bytes (shorter is zero-extended, longer must end in zeros). data is
   * the length of the metadata at the start of dataIn, data_end must be dataIn's length (vxo does
   * not model the fragments a shorter linear part would leave), data_meta and egress_ifindex 0;
   * ingress_ifindex 0 or 1 (lo), rx_queue_index 0. Violations throw BpfError with the kernel's
   * errno (EINVAL, ENODEV, E2BIG). Giving it makes the result carry ctxOut.
   */
  ctxIn?: Uint8Array;
  /** Return ctxOut even without ctxIn: the context of a run given the default one. */
  ctxOut?: boolean;
  repeat?: number;
  engine?: EngineName;
  /** The ingress device and queue the program reads when no ctxIn chooses them (default lo, 0). */
  ingressIfindex?: number;
  rxQueueIndex?: number;
}

export interface TestRunResult {
  retval: number;
  dataOut: Uint8Array;
  /** ctx_out (struct xdp_md, 24 bytes), when ctxIn or ctxOut was given. */
  ctxOut?: Uint8Array;
  /** Average wall-clock time of one run, in ns (like bpftool's "duration (average)"). */
  durationNs: number;
  repeat: number;
  /** Where the last run redirected to, when it returned XDP_REDIRECT. */
  redirect: RedirectTarget | undefined;
}

interface Layout {
  /** Bytes of dataIn that are metadata (ctx_in's data). */
  metaSz: number;
  /** Bytes of dataIn in the linear part, metadata included (ctx_in's data_end). */
  linear: number;
}

const einval = (msg: string): BpfError => new BpfError('EINVAL', msg);

/** bpf_prog_test_run_xdp's checks of ctx_in against data_in, in its order. */
function layoutOf(size: number, md: XdpMd | undefined): Layout {
  const range = `BPF_PROG_TEST_RUN for XDP takes ${ETH_HLEN}..${TEST_RUN_MAX_DATA} bytes`;
  if (md === undefined) {
    if (size < ETH_HLEN || size > TEST_RUN_MAX_DATA) throw einval(`data_in of ${size} bytes: ${range}`);
    return { metaSz: 0, linear: size };
  }
  if (md.dataMeta !== 0) throw einval(`ctx_in: data_meta ${md.dataMeta} must be 0 (no data goes before the metadata)`);
  if (md.dataEnd > size) throw einval(`ctx_in: data_end ${md.dataEnd} is past the ${size} bytes of data_in`);
  if (md.data > md.dataEnd) throw einval(`ctx_in: data ${md.data} is past data_end ${md.dataEnd}`);
  const metaSz = md.data;
  const metaMax = Math.min(XDP_META_MAX, XDP_PACKET_HEADROOM - XDP_FRAME_SIZE);
  if ((metaSz & 3) !== 0 || metaSz > metaMax) {
    throw einval(`ctx_in: data ${metaSz} (the metadata's length) must be a multiple of 4 and at most ${metaMax}`);
  }
  if (size - metaSz < ETH_HLEN) throw einval(`data_in of ${size} bytes with ${metaSz} of metadata leaves less than ${ETH_HLEN} bytes of frame`);
  const maxLinear = PAGE_SIZE - (XDP_PACKET_HEADROOM - metaSz) - SKB_SHARED_INFO_SIZE;
  if (md.dataEnd > maxLinear) throw einval(`ctx_in: data_end ${md.dataEnd}: the linear part holds at most ${maxLinear} bytes with ${metaSz} of metadata`);
  if (md.dataEnd < size) {
    throw einval(`ctx_in: data_end ${md.dataEnd} must be the length of data_in (${size}): the kernel would put the rest in fragments (multi-buffer XDP), which vxo does not model`);
  }
  return { metaSz, linear: md.dataEnd };
}

/** xdp_convert_md_to_buff: the receive queue ctx_in names, and data moved past the metadata. */
function applyMd(xdp: XdpBuff, md: XdpMd, metaSz: number): void {
  if (md.egressIfindex !== 0) throw einval(`ctx_in: egress_ifindex ${md.egressIfindex} must be 0 (it is for programs attached to a DEVMAP entry)`);
  if (md.ingressIfindex === 0 && md.rxQueueIndex !== 0) throw einval(`ctx_in: rx_queue_index ${md.rxQueueIndex} needs an ingress_ifindex`);
  if (md.ingressIfindex !== 0) {
    if (md.ingressIfindex !== LOOPBACK.ifindex) {
      throw new BpfError('ENODEV', `ctx_in: ingress_ifindex ${md.ingressIfindex}: no such device (the test run's namespace has ${LOOPBACK.name}, ifindex ${LOOPBACK.ifindex})`);
    }
    if (md.rxQueueIndex >= LOOPBACK.rxQueues) {
      throw einval(`ctx_in: rx_queue_index ${md.rxQueueIndex}: ${LOOPBACK.name} has ${LOOPBACK.rxQueues} receive queue`);
    }
  }
  xdp.ingressIfindex = LOOPBACK.ifindex;
  xdp.rxQueueIndex = md.rxQueueIndex;
  xdp.data = xdp.dataMeta + metaSz;
  xdp.syncRegion();
}

export function bpfProgTestRun(prog: Program, opts: TestRunOptions): TestRunResult {
  // The kernel verifies at BPF_PROG_LOAD, before any test run looks at its input: so here too.
  const runner = new XdpProgramRunner(prog, opts);
  const size = opts.dataIn.byteLength;
  const md = opts.ctxIn === undefined ? undefined : decodeXdpMd(opts.ctxIn);
  const { metaSz, linear } = layoutOf(size, md);
  const repeat = Math.max(1, Math.floor(opts.repeat ?? 1));
  const frame = new Uint8Array(PAGE_SIZE);
  const headroom = XDP_PACKET_HEADROOM - metaSz;
  frame.set(opts.dataIn, headroom);
  const xdp = runner.xdp;
  xdp.prepare(frame, 0, PAGE_SIZE, headroom, linear);
  xdp.ingressIfindex = opts.ingressIfindex ?? LOOPBACK.ifindex;
  xdp.rxQueueIndex = opts.rxQueueIndex ?? 0;
  if (md !== undefined) applyMd(xdp, md, metaSz);
  let retval = 0;
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) retval = runner.run();
  const t1 = performance.now();
  const res: TestRunResult = {
    retval,
    dataOut: frame.slice(xdp.dataMeta, xdp.dataEnd),
    durationNs: Math.round(((t1 - t0) * 1e6) / repeat),
    repeat,
    redirect: retval === 4 ? { ...runner.env.redirect } : undefined,
  };
  if (md !== undefined || opts.ctxOut) {
    // xdp_convert_buff_to_md: data and data_end relative to data_meta; the rest as given.
    const given = md ?? { data: 0, dataEnd: size, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0 };
    res.ctxOut = encodeXdpMd({ ...given, data: xdp.data - xdp.dataMeta, dataEnd: xdp.dataEnd - xdp.dataMeta });
  }
  return res;
}
