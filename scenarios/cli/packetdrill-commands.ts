// `vxo packetdrill SCRIPT.pkt ...`: runs packetdrill scripts against the guest's network stack on
// the virtual clock. Only the command and its options live here; the parser, the runner and the
// stack load when it runs (packetdrill-actions.ts).
import type { Command } from 'commander';
import type { PacketdrillFlags } from './packetdrill-actions.ts';

const HELP = `
Scripts are packetdrill's language (packets in and out, system calls, times relative
to the previous event); each runs against a fresh stack on a virtual clock, so timing
is exact and a run takes milliseconds. Shell lines are refused, except
\`sysctl -q net.ipv4.NAME=VALUE\` for the net.* sysctls vxo has.

Options a script sets at its head (--tolerance_usecs=10000) can be given here too,
after --, and override the script's: --ip_version=ipv4|ipv6|ipv4-mapped-ipv6,
--tolerance_usecs, --tolerance_percent, --local_ip, --remote_ip, --bind_port,
--connect_port, --tcp_ts_tick_usecs, --tcp_ts_ecr_scaled, --mtu, --seed,
--define=NAME=VALUE (or -D NAME=VALUE).

Exit status: 0 every script passed, 1 a script failed, 2 a script could not run
(a syntax error, an unsupported construct, a shell line).

Examples:
  vxo packetdrill test/packetdrill/*.pkt
  vxo packetdrill tcp_syn_cookie.pkt --verbose
  vxo packetdrill client.pkt --json -- --ip_version=ipv6`;

const actions = (): Promise<typeof import('./packetdrill-actions.ts')> => import('./packetdrill-actions.ts');

export function registerPacketdrillCommands(program: Command): void {
  program.command('packetdrill')
    .description('run packetdrill scripts against the guest network stack on the virtual clock')
    .argument('<scripts...>', 'packetdrill scripts (.pkt); after --, packetdrill options such as --ip_version=ipv6')
    .option('--json', 'print one JSON object: each script with its status and first mismatch')
    .option('--verbose', 'print each packet injected and sniffed and each system call, as packetdrill -v')
    .addHelpText('after', HELP)
    .action(async (scripts: string[], f: PacketdrillFlags) => { await (await actions()).packetdrillCommand(scripts, f); });
}
