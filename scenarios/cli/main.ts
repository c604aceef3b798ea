// vxo's command line. Exit status: 0 success, 1 the program or run failed, 2 usage or load errors.
import { Command, CommanderError } from 'commander';
import { BpfError, RuntimeFault } from '../../bpf-vm/errors.ts';
import { registerConformancePlugin } from './conformance-plugin.ts';
import { ProgramRejected, UsageError } from './errors.ts';
import { registerProgCommands } from './prog-commands.ts';
import { registerRunCommands } from './run-commands.ts';
import { RunError } from '../run/programs.ts';
import { WorkerFailed } from '../run/worker-set.ts';

export function buildCli(): Command {
  const program = new Command('vxo')
    .description('vxo: an emulator of the virtio-net XDP offload design, with an eBPF VM')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerProgCommands(program);
  registerRunCommands(program);
  registerConformancePlugin(program);
  program.action(() => { program.outputHelp(); });
  return program;
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof RuntimeFault || e instanceof ProgramRejected) return 1;
  if (e instanceof UsageError || e instanceof BpfError || e instanceof RunError) return 2;
  if (e instanceof WorkerFailed) return 1;
  return 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  const cli = buildCli();
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

process.exitCode = await main(process.argv.slice(2));
