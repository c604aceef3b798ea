// `vxo prog ...`: bpftool's prog verify, dump and run, for objects clang built. Only the commands
// and their options live here; what they do is loaded when one runs (prog-actions.ts), so that
// `vxo --help` or another command never loads the eBPF engine.
import type { Command } from 'commander';

const OBJ = 'ELF object built with clang -O2 -g -target bpf';
const RUN_HELP = `
Output (as bpftool prog run): --data-out - and --ctx-out - hex dumps, then
  Return value: 2, duration (average): 240ns
bpf_trace_printk lines, as /sys/kernel/tracing/trace_pipe shows them:
             vxo-4242    [000] b..11  8151.421337: bpf_trace_printk: <text>

Examples:
  vxo prog run prog.o --data-in pkt.bin --repeat 1000000
  cat pkt.bin | vxo prog run prog.o --data-in - --data-out -
  vxo prog run prog.o --data-in meta-and-pkt.bin --ctx-in xdp_md.bin --ctx-out - --json
  vxo prog run tc.o --section tc --data-in pkt.bin --ctx-in skb.bin --ctx-out -
  vxo prog run dispatch.o --section sk_lookup --ctx-in bpf_sk_lookup.bin`;

const actions = (): Promise<typeof import('./prog-actions.ts')> => import('./prog-actions.ts');

export function registerProgCommands(program: Command): void {
  const prog = program.command('prog').description('inspect and run BPF programs from clang-built objects (like bpftool prog)');

  prog.command('verify')
    .description('run the verifier and print its log (exit 0 accepted, 1 rejected, 2 usage or load error, or no program in the object)')
    .argument('<obj>', OBJ)
    .option('--section <name>', 'program (function or section name); default: every program')
    .option('--log-level <n>', '1: the path to an error (an accepted program: the closing line); 2: every instruction\'s state; 4: statistics (verification time, stack depth); sums combine them, e.g. 5 = 1|4, 6 = 2|4', '1')
    .action(async (obj: string, o: { section?: string; logLevel: string }) => { (await actions()).progVerify(obj, o); });

  prog.command('dump')
    .description('print the object\'s maps and its programs\' instructions (the maps alone for an object without programs)')
    .argument('<obj>', OBJ)
    .option('--section <name>', 'program (function or section name); default: the first program')
    .action(async (obj: string, o: { section?: string }) => { (await actions()).progDump(obj, o); });

  prog.command('jit-dump')
    .description('print the JavaScript the JIT generates for the program (after verifying it)')
    .argument('<obj>', OBJ)
    .option('--section <name>', 'program (function or section name); default: the first program')
    .option('--no-verify', 'generate without the verifier\'s facts (every access keeps its check)')
    .action(async (obj: string, o: { section?: string; verify: boolean }) => { (await actions()).progJitDump(obj, o); });

  prog.command('run')
    .description('run a program on a packet, like bpftool prog run (BPF_PROG_TEST_RUN)')
    .argument('<obj>', OBJ)
    .option('--section <name>', 'program (function or section name); default: the first program')
    .option('--data-in <file>', 'the packet (raw bytes from the Ethernet header on); - reads standard input; required except for sk_lookup programs')
    .option('--data-out <file>', 'where to write the packet after the run (from data_meta); - prints a hex dump (with --json: in the JSON only)')
    .option('--ctx-in <file>', 'the context, by program type: XDP struct xdp_md (24 bytes: data = metadata length at the start of --data-in, data_end = its length, ingress_ifindex 0 or 1, rx_queue_index 0); tc and socket filters struct __sk_buff (192 bytes: mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs, gso_size, hwtstamp; the rest zero); sk_lookup struct bpf_sk_lookup (72 bytes, required: family, protocol, addresses, ports); - reads standard input')
    .option('--ctx-out <file>', 'where to write the context after the run (xdp_md: data, data_end relative to data_meta; __sk_buff as the program left it; bpf_sk_lookup with cookie = the selected socket\'s); - prints a hex dump (with --json: "ctx_out")')
    .option('--repeat <n>', 'run the program N times on the same buffer', '1')
    .option('--engine <name>', 'execution engine (interp, jit); default: jit, or interp with --no-verify')
    .option('--json', 'print one JSON object with the result, the trace lines and every map')
    .option('--trace <dest>', 'where bpf_trace_printk lines go, in trace_pipe\'s shape: stderr (the default without --json), - for standard output, or a file; with --json they are in "trace" and go nowhere else unless this is given')
    .option('--no-trace', 'discard bpf_trace_printk lines')
    .option('--no-verify', 'run without verifying (a rejection is printed as a warning): the bounds checks are the only guard')
    .addHelpText('after', RUN_HELP)
    .action(async (obj: string, o: import('./prog-actions.ts').RunFlags) => { (await actions()).progRun(obj, o); });
}
