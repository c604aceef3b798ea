// `vxo run case1|case2|flood|netperf` (one scenario) and `vxo table` (the RFC's eight cells beside its numbers).
// Only the commands and their options live here; the runner, the workers and the report are
// loaded when one of these commands runs (run-actions.ts).
import type { Command } from 'commander';
import type { RunFlags, TableFlags } from './run-actions.ts';
import { collect } from './bpf-flags.ts';
import { UsageError } from './errors.ts';

const actions = (): Promise<typeof import('./run-actions.ts')> => import('./run-actions.ts');

function withCommon(c: Command, duration: string): Command {
  return c
    .option('--duration <s>', 'measured window, seconds (above 0, at most 86400)', duration)
    .option('--warmup <s>', 'traffic before the window opens, seconds (0 to 86400)', '0.5')
    .option('--vhost-poll-us <n>', 'vhost busy-polls this long before sleeping (QEMU poll-us), 0 to 1000000', '0')
    .option('--engine <e>', 'eBPF engine: jit or interp', 'jit')
    .option('--line-rate <speed>', "cap pktgen at a link's rate for its frame size, e.g. 10G (14.88 Mpps at 64 bytes)")
    .option('--pkt-size <n>', 'frame size without FCS, 60 to 1514', '60')
    .option('--flows <n>', 'UDP flows pktgen cycles through, 1 to 65536', '1');
}

export function registerRunCommands(program: Command): void {
  withCommon(program.command('run <scenario>'), '2')
    .description('run one scenario: case1 (NIC XDP redirect into the tap), case2 (NIC -> bridge -> tap), flood (pktgen floods the guest stack) or netperf (host and guest stacks)')
    .option('--prog <p>', 'the guest program: xdp1, xdp2 or a clang object', 'xdp1')
    .option('--section <name>', 'the program in the object, by function or section name (default: its first)')
    .option('--mode <m>', 'native (in the guest driver) or offload (in the tap Tx path)', 'native')
    .option('--replay <pcap>', 'pktgen replays this capture (pcap or pcapng) instead of generating UDP')
    .option('--json', 'print one JSON object (with --show-offload, the offload under "offload")')
    .option('--show-offload', 'print the program and maps the tap runs (offload mode), like bpftool prog show / map dump')
    .option('--trace', "print the programs' bpf_trace_printk lines on stderr, like trace_pipe (at most 100 a second per worker)")
    .option('--pcap <file>', 'write the first frames seen at --pcap-at to a pcap file')
    .option('--pcap-at <point>', 'capture point: nic, tap or guest (case1/case2, default tap); also guest-stack or host-stack, the stacks\' eth0 and br0 both ways (flood/netperf, default guest-stack)')
    .option('--pcap-count <n>', 'frames to capture, 1 to 100000', '1000')
    .option('--kind <k>', 'flood: syn4, syn6 (SYNs at a listener, syncookies=2), udp4 or udp6 (0-length UDP into one socket)')
    .option('--test <t>', 'netperf: UDP_STREAM, TCP_STREAM, UDP_RR, TCP_RR or TCP_CRR (a connection per transaction: connections/s)', 'TCP_STREAM')
    .option('--size <n>', 'netperf: send size (STREAM, -m) or request/response size (RR, -r N,N); default 1472, 16384, 1, 1')
    .option('--direction <d>', 'netperf: host-to-guest or guest-to-host (the sending side)', 'host-to-guest')
    .option('--family <f>', 'netperf: 4 (10.0.0.1 and 10.0.0.2) or 6 (fd00::1 and fd00::2)', '4')
    .option('--attach <spec>', 'flood/netperf: attach a BPF program, MACHINE[/DEV]:HOOK:OBJECT[:SECTION]; MACHINE guest (eth0) or host (br0; host/nic and host/tap are the host\'s NIC and tap, tc only), HOOK tc-ingress, tc-egress, sk-lookup, socket-filter (the application\'s socket), xdp or xdp-offload (guest; offload falls back to native when refused); repeatable', collect, [])
    .option('--map <spec>', 'flood/netperf: write a map entry of the last program attached to MACHINE before traffic starts, MACHINE:MAP:KEYHEX:VALUEHEX; repeatable', collect, [])
    .option('--bind <binding>', "flood/netperf: a dispatcher binding on the guest to its application's socket, 'PROTO PREFIX PORT' (port 0: every port), e.g. 'tcp 192.0.2.0/24 80'; the guest owns the prefixes, the host routes them to it; repeatable", collect, [])
    .option('--sysctl <spec>', 'netperf: set a net.ipv4 sysctl on a machine before the applications start, MACHINE:NAME=VALUE, e.g. guest:tcp_syncookies=2 (the classic SYN cookie path); repeatable', collect, [])
    .option('--target <addr:port>', 'netperf: connect here instead of netserver\'s address and port (a service a BPF program steers), e.g. 192.0.2.7:80 or :8080')
    .option('--dst <spec>', "flood: pktgen's destinations, ADDR[+N][:PORT[+N]] (IPv6 in brackets), e.g. 192.0.2.0+256:53 for every address of a /24 on port 53 (with --bind 'udp 192.0.2.0/24 53' one socket takes them all)")
    .option('--vhost-rx <path>', "netperf: how vhost's handle_rx reads the tap: ptr_ring (before the offload RFC: vhost consumes the tap's ptr_ring itself, in batches; the host cannot take an offloaded program, so xdp-offload is refused and falls back to native) or tap_recvmsg (the RFC's patches 5-6: the tap's recvmsg, where an offloaded program runs)", 'tap_recvmsg')
    .action(async (scenario: string, f: RunFlags) => { await (await actions()).runCommand(scenario, f); });

  withCommon(program.command('table'), '2')
    .description("run the RFC's eight cells (Case 1/2 x xdp1/xdp2 x native/offload) and print them beside the RFC's table")
    .option('--repeat <n>', 'runs per cell (median reported), 1 to 100', '3')
    .option('--prog <obj>', 'run your own clang object in place of xdp1 and xdp2 (four cells, no RFC figures)')
    .option('--section <name>', 'with --prog: the program in the object, by function or section name')
    .option('--json <file>', 'write the results as JSON')
    .option('--html <file>', 'write a self-contained HTML report with charts')
    .option('--cells <list>', "only these cells, e.g. 1/xdp1/offload,2/xdp2/native (1/user/native with --prog); with --suite, that suite's cell ids")
    .option('--suite <id>', "an experiments suite: offload (the RFC's table, the default), sk-lookup, xdp-sk, syncookie, netperf, or all (offload first, then each); --json/--html then hold that suite (all: one JSON { offload, suites: [...] } and one HTML page)")
    .action(async (f: TableFlags & { suite?: string }) => {
      if (f.suite !== undefined && f.suite !== 'offload') {
        if (f.prog !== undefined || f.section !== undefined) throw new UsageError('--prog/--section: only with the offload table (no --suite, or --suite offload)');
        const { runSuiteCommand } = await import('./suite-actions.ts');
        await runSuiteCommand({
          suite: f.suite, repeat: f.repeat, duration: f.duration, warmup: f.warmup, engine: f.engine,
          ...(f.json !== undefined ? { json: f.json } : {}), ...(f.html !== undefined ? { html: f.html } : {}), ...(f.cells !== undefined ? { cells: f.cells } : {}),
        });
        return;
      }
      await (await actions()).runTableCommand(f);
    });
}
