// The plugin protocol of the public eBPF conformance suite: program bytes as hex on stdin, input
// memory as one argument of hex bytes; prints r0 in hex and exits 0, or exits 1 with a message.
// The suite starts vxo once per test, so this loads only the decoder and the engines it needs.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { EngineName } from '../../bpf-vm/engines.ts';
import { UsageError } from './errors.ts';

const ENGINE_NAMES = ['interp', 'jit'] as const satisfies readonly EngineName[];

export function registerConformancePlugin(program: Command): void {
  program.command('conformance-plugin')
    .description('run one program for the eBPF conformance suite (program hex on stdin)')
    .argument('[memhex]', 'input memory as hex bytes, e.g. "00 01 02"', '')
    .option('--engine <name>', `execution engine (${ENGINE_NAMES.join(', ')}); these programs are unverified, so every access is checked`, 'interp')
    .action(async (memhex: string, o: { engine: string }) => {
      const engine = ENGINE_NAMES.find((e) => e === o.engine);
      if (engine === undefined) throw new UsageError(`--engine must be one of ${ENGINE_NAMES.join(', ')}`);
      const [{ fromHex }, { decodeInsns }, { runPlain }] = await Promise.all([
        import('../../bpf-vm/hex.ts'), import('../../bpf-vm/isa/insn.ts'), import('../../bpf-vm/prog/plain-run.ts'),
      ]);
      const program = decodeInsns(fromHex(readFileSync(0, 'utf8'), 'program'), 'program');
      const r0 = runPlain(program, fromHex(memhex, 'memory'), { engine });
      process.stdout.write(`${r0.toString(16)}\n`);
    });
}
