// The workers' bpf_trace_printk messages (virtio/trace-pipe.ts) as lines in trace_pipe's shape,
// the same as `vxo prog run` prints (bpf-vm/helpers/trace-pipe.ts):
//            guest-19543   [000] .....     3.099858: bpf_trace_printk: len=60
// with the worker's name as the task (guest, vhost, host), its kernel task id as the pid, the CPU
// the program sees, and seconds since the run started. The flags column stays neutral: the
// kernel's would describe a context vxo's threads do not have. As on Linux, a text ending in "\n"
// leaves an empty line after it. Lines the rate limit dropped are counted on a line of their own,
// as trace_pipe reports lost events.
import { formatTracePipeLine } from '../../bpf-vm/helpers/trace-pipe.ts';
import type { TraceMessage } from '../../virtio/trace-pipe.ts';

export type { TraceMessage };

const NEUTRAL_FLAGS = '.....';

/** One line, without its final newline (the sink adds it). */
export function formatTraceLine(m: TraceMessage, maxPerSec: number): string {
  const ctx = { comm: m.worker, pid: m.tid ?? 0, cpu: m.cpu, timeNs: BigInt(Math.round(m.ts * 1e9)), flags: NEUTRAL_FLAGS };
  if ('text' in m) return formatTracePipeLine(m.text, ctx).slice(0, -1);
  const line = formatTracePipeLine('', ctx).slice(0, -1).replace(/bpf_trace_printk: $/, '');
  return `${line}vxo: ${m.suppressed} bpf_trace_printk line${m.suppressed === 1 ? '' : 's'} suppressed (at most ${maxPerSec} a second per worker)`;
}
