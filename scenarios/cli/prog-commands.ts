// `vxo prog ...`: bpftool's prog dump and prog run, for objects clang built.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { disassemble } from '../../bpf-vm/asm/disassembler.ts';
import { isEngineName, ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { helperName } from '../../bpf-vm/helpers/table.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import { mapTypeName } from '../../bpf-vm/maps/names.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { progTypeName } from '../../bpf-vm/prog/types.ts';
import { UsageError } from './errors.ts';

function mapNameResolver(prog: Program): (fd: number) => string | undefined {
  return (fd) => prog.fds.get(fd)?.spec.name;
}

export function formatDump(coll: Collection, prog: Program): string {
  const lines: string[] = ['maps:'];
  for (const [fd, m] of coll.fds.entries()) {
    const s = m.spec;
    lines.push(`  fd ${fd}: ${mapTypeName(s.type)}  name ${s.name}  key ${s.keySize}B  value ${s.valueSize}B  max_entries ${s.maxEntries}  flags 0x${s.flags.toString(16)}`);
  }
  if (coll.fds.entries().next().done) lines.push('  (none)');
  lines.push('', `${prog.name}: section ${prog.section}, type ${progTypeName(prog.type)}, ${prog.insns.length} insns, license ${JSON.stringify(prog.license)}`);
  const funcAt = new Map(prog.funcs.map((f) => [f.start, f.name]));
  const mapName = mapNameResolver(prog);
  for (const { pc, text } of disassemble(prog.insns, { mapName, helperName, funcName: (pc) => funcAt.get(pc) })) {
    const f = funcAt.get(pc);
    if (f !== undefined && pc !== 0) lines.push(`${f}:`);
    const code = prog.insns[pc]!.code.toString(16).padStart(2, '0');
    lines.push(`${String(pc).padStart(5)}: (${code}) ${text}`);
  }
  return lines.join('\n');
}

function engineOption(v: string): EngineName {
  if (!isEngineName(v)) throw new UsageError(`--engine must be one of ${ENGINES.join(', ')}`);
  return v;
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got '${v}'`);
  return n;
}

export function registerProgCommands(program: Command): void {
  const prog = program.command('prog').description('inspect and run BPF programs from clang-built objects (like bpftool prog)');

  prog.command('dump')
    .description('print the object\'s maps and the program\'s instructions')
    .argument('<obj>', 'ELF object built with clang -O2 -g -target bpf')
    .option('--section <name>', 'program (function or section name); default: the first program')
    .action((obj: string, o: { section?: string }) => {
      const coll = loadObjectFile(obj);
      const names = o.section ? [o.section] : [...coll.programs.keys()];
      console.log(names.map((n) => formatDump(coll, coll.program(n))).join('\n\n'));
    });

  prog.command('run')
    .description('run a program on a packet, like bpftool prog run (BPF_PROG_TEST_RUN)')
    .argument('<obj>', 'ELF object built with clang -O2 -g -target bpf')
    .option('--section <name>', 'program (function or section name); default: the first program')
    .requiredOption('--data-in <file>', 'the packet (raw bytes from the Ethernet header on)')
    .option('--data-out <file>', 'where to write the packet after the run')
    .option('--repeat <n>', 'run the program N times on the same buffer', '1')
    .option('--engine <name>', `execution engine (${ENGINES.join(', ')})`, ENGINES[0])
    .option('--json', 'print one JSON object with the result and every map')
    .action((obj: string, o: { section?: string; dataIn: string; dataOut?: string; repeat: string; engine: string; json?: boolean }) => {
      const repeat = positiveInt(o.repeat, '--repeat');
      const engine = engineOption(o.engine);
      let dataIn: Uint8Array;
      try {
        dataIn = readFileSync(o.dataIn);
      } catch (e) {
        throw new UsageError(`cannot read --data-in ${o.dataIn}: ${(e as Error).message}`);
      }
      const coll = loadObjectFile(obj);
      const p = coll.program(o.section);
      const res = bpfProgTestRun(p, { dataIn, repeat, engine });
      if (o.dataOut) writeFileSync(o.dataOut, res.dataOut);
      if (o.json) {
        const maps: Record<string, { key: string; value: string }[]> = {};
        for (const [name, m] of coll.maps) maps[name] = dumpMap(m).map((e) => ({ key: toHex(e.key), value: toHex(e.value) }));
        console.log(JSON.stringify({ retval: res.retval, duration_ns: res.durationNs, repeat: res.repeat, data_out: toHex(res.dataOut), maps }));
      } else {
        console.log(`Return value: ${res.retval}, duration (average): ${res.durationNs}ns`);
      }
    });
}
