// A bpf_trace_printk line as /sys/kernel/tracing/trace_pipe shows it (kernel/trace/trace_output.c,
// trace_print_context, then the bpf_trace_printk event):
//          bpftool-8646    [000] b..11   561.493110: bpf_trace_printk: vxo: frame of 64 bytes
// The task's comm (at most 15 characters, right-aligned in 16) and pid, the CPU, the latency flags,
// seconds.microseconds of the trace clock, the event name and the text. The kernel ends every event
// with a newline, so a text that ends in "\n" leaves an empty line after it, as on a real system.

/**
 * The flags a BPF_PROG_TEST_RUN's lines carry on Linux 6.x: bottom halves off (b), no resched
 * pending, not in an interrupt, preempt depth 1, migration disabled once.
 */
export const TEST_RUN_TRACE_FLAGS = 'b..11';

export interface TraceContext {
  /** The task's name; the kernel keeps 15 characters (TASK_COMM_LEN). */
  comm: string;
  pid: number;
  cpu: number;
  /** The trace clock, in ns (the kernel's is local_clock: time since boot). */
  timeNs: bigint;
  /** The latency-format flags column (default TEST_RUN_TRACE_FLAGS). */
  flags?: string;
}

export function formatTracePipeLine(text: string, c: TraceContext): string {
  const secs = c.timeNs / 1_000_000_000n;
  const usecs = (c.timeNs % 1_000_000_000n) / 1000n;
  const head = `${c.comm.slice(0, 15).padStart(16)}-${String(c.pid).padEnd(7)} [${String(c.cpu).padStart(3, '0')}] ${c.flags ?? TEST_RUN_TRACE_FLAGS}`;
  return `${head} ${String(secs).padStart(5)}.${String(usecs).padStart(6, '0')}: bpf_trace_printk: ${text}\n`;
}
