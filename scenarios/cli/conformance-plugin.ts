// The plugin protocol of the public eBPF conformance suite: program bytes as hex on stdin, input
// memory as one argument of hex bytes; prints r0 in hex and exits 0, or exits 1 with a message.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ENGINES, isEngineName } from '../../bpf-vm/engines.ts';
import { fromHex } from '../../bpf-vm/hex.ts';
import { decodeInsns } from '../../bpf-vm/isa/insn.ts';
import { runPlain } from '../../bpf-vm/prog/plain-run.ts';
import { UsageError } from './errors.ts';

export function registerConformancePlugin(program: Command): void {
  program.command('conformance-plugin')
    .description('run one program for the eBPF conformance suite (program hex on stdin)')
    .argument('[memhex]', 'input memory as hex bytes, e.g. "00 01 02"', '')
    .option('--engine <name>', `execution engine (${ENGINES.join(', ')}); these programs are unverified, so every access is checked`, 'interp')
    .action((memhex: string, o: { engine: string }) => {
      if (!isEngineName(o.engine)) throw new UsageError(`--engine must be one of ${ENGINES.join(', ')}`);
      const program = decodeInsns(fromHex(readFileSync(0, 'utf8'), 'program'), 'program');
      const r0 = runPlain(program, fromHex(memhex, 'memory'), { engine: o.engine });
      process.stdout.write(`${r0.toString(16)}\n`);
    });
}
