// What `vxo prog ...` does (the commands and their options are in prog-commands.ts): bpftool's prog
// verify, dump and run for objects clang built. Loaded only when a prog command runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { disassemble } from '../../bpf-vm/asm/disassembler.ts';
import { isEngineName, ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { helperName } from '../../bpf-vm/helpers/table.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import { mapTypeName } from '../../bpf-vm/maps/names.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { jitSource } from '../../bpf-vm/jit/dump.ts';
import { prepareProgram } from '../../bpf-vm/prog/prepare.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { progTypeName } from '../../bpf-vm/prog/types.ts';
import { VerifierError, type VerifierLogLevel } from '../../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { ProgramRejected, UsageError } from './errors.ts';

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

/** A positive u32, as BPF_PROG_TEST_RUN's repeat is. */
function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n < 1 || n > 0xffffffff) throw new UsageError(`${name} must be an integer from 1 to 4294967295, got '${v}'`);
  return n;
}

function logLevelOption(v: string): VerifierLogLevel {
  if (v !== '1' && v !== '2') throw new UsageError(`--log-level must be 1 or 2, got '${v}'`);
  return Number(v) as VerifierLogLevel;
}


export interface VerifyFlags { section?: string; logLevel: string }

export function progVerify(obj: string, o: VerifyFlags): void {
  const logLevel = logLevelOption(o.logLevel);
  const coll = loadObjectFile(obj);
  const names = o.section ? [coll.program(o.section).name] : [...coll.programs.keys()];
  const rejected: string[] = [];
  for (const name of names) {
    if (names.length > 1) console.log(`${name}:`);
    try {
      process.stdout.write(verifyProgram(coll.program(name), { logLevel }).log);
    } catch (e) {
      if (!(e instanceof VerifierError)) throw e;
      process.stdout.write(e.log);
      rejected.push(`${name}: ${e.message}`);
    }
  }
  if (rejected.length > 0) throw new ProgramRejected(`verifier rejected ${rejected.join('; ')}`);
}

export function progDump(obj: string, o: { section?: string }): void {
  const coll = loadObjectFile(obj);
  const names = o.section ? [o.section] : [...coll.programs.keys()];
  console.log(names.map((n) => formatDump(coll, coll.program(n))).join('\n\n'));
}

export function progJitDump(obj: string, o: { section?: string; verify: boolean }): void {
  const p = loadObjectFile(obj).program(o.section);
  let facts;
  try {
    facts = o.verify ? verifyProgram(p).facts : undefined;
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    process.stderr.write(e.log);
    throw new ProgramRejected(`verifier rejected ${p.name}: ${e.message}; a rejected program is never JIT-compiled`);
  }
  process.stdout.write(jitSource(prepareProgram({ type: p.type, insns: p.insns, fds: p.fds }), facts));
}

export interface RunFlags { section?: string; dataIn: string; dataOut?: string; repeat: string; engine?: string; json?: boolean; verify: boolean }

export function progRun(obj: string, o: RunFlags): void {
  const repeat = positiveInt(o.repeat, '--repeat');
  const engine = o.engine === undefined ? undefined : engineOption(o.engine);
  let dataIn: Uint8Array;
  try {
    dataIn = readFileSync(o.dataIn);
  } catch (e) {
    throw new UsageError(`cannot read --data-in ${o.dataIn}: ${(e as Error).message}`);
  }
  const coll = loadObjectFile(obj);
  const p = coll.program(o.section);
  let res;
  try {
    res = bpfProgTestRun(p, { dataIn, repeat, engine, verify: o.verify });
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    process.stderr.write(e.log);
    throw new ProgramRejected(`verifier rejected ${p.name}: ${e.message} (--no-verify runs it anyway)`);
  }
  if (o.dataOut) {
    try {
      writeFileSync(o.dataOut, res.dataOut);
    } catch (e) {
      throw new UsageError(`cannot write --data-out ${o.dataOut}: ${(e as Error).message}`);
    }
  }
  if (o.json) {
    const maps: Record<string, { key: string; value: string }[]> = {};
    for (const [name, m] of coll.maps) maps[name] = dumpMap(m).map((e) => ({ key: toHex(e.key), value: toHex(e.value) }));
    console.log(JSON.stringify({ retval: res.retval, duration_ns: res.durationNs, repeat: res.repeat, data_out: toHex(res.dataOut), maps }));
  } else {
    console.log(`Return value: ${res.retval}, duration (average): ${res.durationNs}ns`);
  }
}
