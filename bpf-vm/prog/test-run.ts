// BPF_PROG_TEST_RUN for XDP, as the kernel does it (net/bpf/test_run.c): the packet placed after
// XDP_PACKET_HEADROOM in a page-sized frame, ingress on the loopback device (ifindex 1, queue 0),
// `repeat` runs on the same buffer without resetting it, data_out from data_meta to data_end.
import type { EngineName } from '../engines.ts';
import { BpfError } from '../errors.ts';
import type { RedirectTarget } from '../interp/env.ts';
import type { Program } from './program.ts';
import { ETH_HLEN, SKB_SHARED_INFO_SIZE, XDP_PACKET_HEADROOM } from './xdp.ts';
import { XdpProgramRunner, type XdpRunnerOptions } from './xdp-runner.ts';

const PAGE_SIZE = 4096;
export const TEST_RUN_MAX_DATA = PAGE_SIZE - XDP_PACKET_HEADROOM - SKB_SHARED_INFO_SIZE;

export interface TestRunOptions extends XdpRunnerOptions {
  dataIn: Uint8Array;
  repeat?: number;
  engine?: EngineName;
  ingressIfindex?: number;
  rxQueueIndex?: number;
}

export interface TestRunResult {
  retval: number;
  dataOut: Uint8Array;
  /** Average wall-clock time of one run, in ns (like bpftool's "duration (average)"). */
  durationNs: number;
  repeat: number;
  /** Where the last run redirected to, when it returned XDP_REDIRECT. */
  redirect: RedirectTarget | undefined;
}

export function bpfProgTestRun(prog: Program, opts: TestRunOptions): TestRunResult {
  const size = opts.dataIn.byteLength;
  if (size < ETH_HLEN || size > TEST_RUN_MAX_DATA) {
    throw new BpfError('EINVAL', `data_in of ${size} bytes: BPF_PROG_TEST_RUN for XDP takes ${ETH_HLEN}..${TEST_RUN_MAX_DATA} bytes`);
  }
  const repeat = Math.max(1, Math.floor(opts.repeat ?? 1));
  const runner = new XdpProgramRunner(prog, opts);
  const frame = new Uint8Array(PAGE_SIZE);
  frame.set(opts.dataIn, XDP_PACKET_HEADROOM);
  const xdp = runner.xdp;
  xdp.prepare(frame, 0, PAGE_SIZE, XDP_PACKET_HEADROOM, size);
  xdp.ingressIfindex = opts.ingressIfindex ?? 1;
  xdp.rxQueueIndex = opts.rxQueueIndex ?? 0;
  let retval = 0;
  const t0 = performance.now();
  for (let i = 0; i < repeat; i++) retval = runner.run();
  const t1 = performance.now();
  return {
    retval,
    dataOut: frame.slice(xdp.dataMeta, xdp.dataEnd),
    durationNs: Math.round(((t1 - t0) * 1e6) / repeat),
    repeat,
    redirect: retval === 4 ? { ...runner.env.redirect } : undefined,
  };
}
