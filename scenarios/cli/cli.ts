// vxo's command line. Exit status: 0 success, 1 the program or run failed, 2 usage or load errors.
// Only commander and the commands' definitions load here; each command loads what it needs when it
// runs, so `vxo --help` costs little more than starting Node.
import { Command, CommanderError } from 'commander';
import { BpfError, RuntimeFault } from '../../bpf-vm/errors.ts';
import { packageVersion } from '../package-root.ts';
import { isRunFailure, RunError } from '../run/run-error.ts';
import { registerBtfCommands } from './btf-commands.ts';
import { registerConformancePlugin } from './conformance-plugin.ts';
import { ProgramRejected, UsageError } from './errors.ts';
import { registerPacketdrillCommands } from './packetdrill-commands.ts';
import { registerProgCommands } from './prog-commands.ts';
import { registerRunCommands } from './run-commands.ts';

export function buildCli(): Command {
  const program = new Command('vxo')
    .description('vxo: an emulator of the virtio-net XDP offload design, with an eBPF VM')
    .version(packageVersion(), '-V, --version', 'print vxo\'s version')
    .helpCommand('help [command]', 'print the help of a command')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerProgCommands(program);
  registerRunCommands(program);
  registerPacketdrillCommands(program);
  registerBtfCommands(program);
  registerConformancePlugin(program);
  return program;
}

export function exitCodeFor(e: unknown): number {
  // A run that started and failed (RunError EIO, a worker that died) is the run's failure, not the command line's.
  if (e instanceof RuntimeFault || e instanceof ProgramRejected || isRunFailure(e)) return 1;
  if (e instanceof UsageError || e instanceof BpfError || e instanceof RunError) return 2;
  return 1;
}

/** A command with subcommands, named alone (`vxo`, `vxo prog`): its help, on stdout, exit 0. */
function bareGroup(cli: Command, argv: readonly string[]): Command | undefined {
  if (argv.length === 0) return cli;
  if (argv.length === 1) {
    const sub = cli.commands.find((c) => c.name() === argv[0]);
    if (sub !== undefined && sub.commands.length > 0) return sub;
  }
  return undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  const cli = buildCli();
  const bare = bareGroup(cli, argv);
  if (bare !== undefined) {
    bare.outputHelp();
    return 0;
  }
  try {
    await cli.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const err = e as Error;
    process.stderr.write(`Error: ${err.message}\n`);
    return exitCodeFor(e);
  }
}
