// bpf_trace_printk lines in trace_pipe's shape, checked against lines Linux 6.18 printed for the
// same calls (bpftool prog run of test/fixtures/cli/trace_printk.o and of a program printing
// "with newline\n").
import test from 'ava';
import { formatTracePipeLine } from '../bpf-vm/helpers/trace-pipe.ts';

const at = (secs: number, usecs: number): bigint => BigInt(secs) * 1_000_000_000n + BigInt(usecs) * 1000n + 123n;

test('a line reads as the kernel printed it: comm-pid, [cpu], flags, seconds.microseconds, the event', (t) => {
  t.is(formatTracePipeLine('vxo: frame of 64 bytes', { comm: 'bpftool', pid: 8646, cpu: 0, timeNs: at(561, 493110) }),
    '         bpftool-8646    [000] b..11   561.493110: bpf_trace_printk: vxo: frame of 64 bytes\n');
  t.is(formatTracePipeLine('ifindex 1 queue 0', { comm: 'bpftool', pid: 9526, cpu: 1, timeNs: at(599, 998710) }),
    '         bpftool-9526    [001] b..11   599.998710: bpf_trace_printk: ifindex 1 queue 0\n');
});

test('the kernel ends each event with a newline: a text ending in one leaves an empty line', (t) => {
  t.is(formatTracePipeLine('with newline\n', { comm: 'bpftool', pid: 8702, cpu: 0, timeNs: at(564, 438542) }),
    '         bpftool-8702    [000] b..11   564.438542: bpf_trace_printk: with newline\n\n');
});

test('comm keeps 15 characters; wide pids, CPUs and uptimes push the columns as printf does', (t) => {
  t.is(formatTracePipeLine('x', { comm: 'a-very-long-command-name', pid: 12345678, cpu: 1234, timeNs: at(1234567, 5), flags: '..s1.' }),
    ' a-very-long-com-12345678 [1234] ..s1. 1234567.000005: bpf_trace_printk: x\n');
});
