// What `vxo prog ...` does (the commands and their options are in prog-commands.ts): bpftool's prog
// verify, dump and run for objects clang built. Loaded only when a prog command runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { disassemble, formatSourceLine, sourceLinesByInsn } from '../../bpf-vm/asm/disassembler.ts';
import { isEngineName, ENGINES, type EngineName } from '../../bpf-vm/engines.ts';
import { BpfError } from '../../bpf-vm/errors.ts';
import { linuxHelperName } from '../../bpf-vm/helpers/names.ts';
import { helperName } from '../../bpf-vm/helpers/table.ts';
import { toHex } from '../../bpf-vm/hex.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import { drainRingBuf } from '../../bpf-vm/maps/ringbuf-consumer.ts';
import { RingBufMap } from '../../bpf-vm/maps/ringbuf.ts';
import { mapTypeName } from '../../bpf-vm/maps/names.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { jitSource } from '../../bpf-vm/jit/dump.ts';
import { prepareProgram } from '../../bpf-vm/prog/prepare.ts';
import { bpfProgTestRun } from '../../bpf-vm/prog/test-run.ts';
import { bpfProgTestRunSkb } from '../../bpf-vm/prog/test-run-skb.ts';
import { bpfProgTestRunSkLookup } from '../../bpf-vm/prog/test-run-sk-lookup.ts';
import { BPF_PROG_TYPE, progTypeName } from '../../bpf-vm/prog/types.ts';
import { VerifierError, isVerifierLogLevel, type VerifierLogLevel } from '../../bpf-vm/verifier/api.ts';
import { verifyProgram } from '../../bpf-vm/verifier/index.ts';
import { ProgramRejected, UsageError } from './errors.ts';
import { hexPrint } from './hex-print.ts';
import { TraceOutput, type TraceDest } from './trace-output.ts';

function mapNameResolver(prog: Program): (fd: number) => string | undefined {
  return (fd) => prog.fds.get(fd)?.spec.name;
}

/** Helpers by their Linux name, those vxo does not implement included (`call bpf_xdp_load_bytes#189`). */
const anyHelperName = (id: number): string | undefined => helperName(id) ?? linuxHelperName(id);

function formatMaps(coll: Collection): string[] {
  const lines: string[] = ['maps:'];
  for (const [fd, m] of coll.fds.entries()) {
    const s = m.spec;
    lines.push(`  fd ${fd}: ${mapTypeName(s.type)}  name ${s.name}  key ${s.keySize}B  value ${s.valueSize}B  max_entries ${s.maxEntries}  flags 0x${s.flags.toString(16)}`);
  }
  if (coll.fds.entries().next().done) lines.push('  (none)');
  return lines;
}

export function formatDump(coll: Collection, prog: Program): string {
  const lines = formatMaps(coll);
  lines.push('', `${prog.name}: section ${prog.section}, type ${progTypeName(prog.type)}, ${prog.insns.length} insns, license ${JSON.stringify(prog.license)}`);
  const funcAt = new Map(prog.funcs.map((f) => [f.start, f.name]));
  const mapName = mapNameResolver(prog);
  const source = sourceLinesByInsn(prog.lineInfo);
  for (const { pc, text } of disassemble(prog.insns, { mapName, helperName: anyHelperName, funcName: (pc) => funcAt.get(pc) })) {
    const f = funcAt.get(pc);
    if (f !== undefined && pc !== 0) lines.push(`${f}:`);
    const src = source.get(pc);
    if (src !== undefined) lines.push(formatSourceLine(src));
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

/** The kernel's log_level bits: 1, 2 and 4 (statistics), alone or combined (5 = 1|4, 6 = 2|4). */
function logLevelOption(v: string): VerifierLogLevel {
  const n = Number(v);
  if (!/^[1-7]$/.test(v) || !isVerifierLogLevel(n)) throw new UsageError(`--log-level must be 1, 2 or 4, or a sum of them (3, 5, 6, 7), got '${v}'`);
  return n;
}

/** An object with maps only has nothing to verify, run or compile: say what it does have. */
function noPrograms(obj: string, coll: Collection, what: string): BpfError {
  const maps = [...coll.maps.keys()];
  return new BpfError('ENOENT', `${obj}: nothing to ${what}: the object has no programs${maps.length > 0 ? ` (maps: ${maps.join(', ')})` : ''}`);
}

export interface VerifyFlags { section?: string; logLevel: string }

export function progVerify(obj: string, o: VerifyFlags): void {
  const logLevel = logLevelOption(o.logLevel);
  const coll = loadObjectFile(obj);
  if (coll.programs.size === 0) throw noPrograms(obj, coll, 'verify');
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
  if (coll.programs.size === 0 && o.section === undefined) {
    console.log([...formatMaps(coll), '', 'programs:', '  (none)'].join('\n'));
    return;
  }
  const names = o.section ? [o.section] : [...coll.programs.keys()];
  console.log(names.map((n) => formatDump(coll, coll.program(n))).join('\n\n'));
}

export function progJitDump(obj: string, o: { section?: string; verify: boolean }): void {
  const coll = loadObjectFile(obj);
  if (coll.programs.size === 0) throw noPrograms(obj, coll, 'compile');
  const p = coll.program(o.section);
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

export interface RunFlags {
  section?: string;
  dataIn?: string;
  dataOut?: string;
  ctxIn?: string;
  ctxOut?: string;
  repeat: string;
  engine?: string;
  json?: boolean;
  /** The destination; false with --no-trace; undefined when neither is given. */
  trace?: string | false;
  verify: boolean;
}

/** A file's bytes, or standard input's for `-`, as bpftool reads data_in and ctx_in. */
function readInput(path: string, flag: string): Uint8Array {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (e) {
    throw new UsageError(`cannot read ${flag} ${path === '-' ? '(standard input)' : path}: ${(e as Error).message}`);
  }
}

function writeOutput(path: string, bytes: Uint8Array, flag: string): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new UsageError(`cannot write ${flag} ${path}: ${(e as Error).message}`);
  }
}

/** --trace / --no-trace: trace_pipe lines to stderr by default; with --json only into the JSON unless asked. */
function traceDest(o: RunFlags): TraceDest | undefined {
  if (o.trace === false) return undefined;
  if (o.trace === undefined) return o.json ? undefined : { kind: 'stderr' };
  if (o.trace === '-') {
    if (o.json) throw new UsageError('--trace - cannot be used with --json: standard output holds the JSON document (the lines are in its "trace")');
    return { kind: 'stdout' };
  }
  if (o.trace === 'stderr') return { kind: 'stderr' };
  return { kind: 'file', path: o.trace };
}

/**
 * --no-verify still asks the verifier, so that a user learns why the program would not load;
 * its rejection is a warning, and the run goes on unverified.
 */
function warnIfRejected(p: Program): void {
  try {
    verifyProgram(p, { logLevel: 1 });
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    process.stderr.write(`Warning: verifier rejected ${p.name}: ${e.message}; running it unverified (--no-verify)\n`);
    process.stderr.write(`-- BEGIN VERIFIER LOG --\n${e.log}${e.log.endsWith('\n') ? '' : '\n'}-- END VERIFIER LOG --\n`);
  }
}

/** What one test run gave back, whatever the program type. */
interface RunResult {
  retval: number;
  dataOut: Uint8Array | undefined;
  ctxOut: Uint8Array | undefined;
  durationNs: number;
  repeat: number;
}

interface RunInput {
  dataIn: Uint8Array | undefined;
  ctxIn: Uint8Array | undefined;
  ctxOut: boolean;
  repeat: number;
  engine: EngineName | undefined;
  verify: boolean;
  trace: TraceOutput;
}

/**
 * BPF_PROG_TEST_RUN by program type, as the kernel dispatches it: XDP (xdp_md), tc and socket
 * filters (__sk_buff, bpf_prog_test_run_skb), SK_LOOKUP (bpf_sk_lookup as ctx_in, no packet).
 */
function testRun(p: Program, i: RunInput): RunResult {
  const common = { repeat: i.repeat, engine: i.engine, verify: i.verify, trace: i.trace.sink };
  switch (p.type) {
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SK_LOOKUP: {
      if (i.dataIn !== undefined) throw new UsageError('an sk_lookup program takes no packet: give --ctx-in (struct bpf_sk_lookup), not --data-in');
      if (i.ctxIn === undefined) throw new UsageError('an sk_lookup program needs --ctx-in: struct bpf_sk_lookup (72 bytes), as BPF_PROG_TEST_RUN takes it');
      const r = bpfProgTestRunSkLookup(p, { ...common, ctxIn: i.ctxIn });
      return { retval: r.retval, dataOut: undefined, ctxOut: r.ctxOut, durationNs: r.durationNs, repeat: r.repeat };
    }
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS:
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_ACT:
    case BPF_PROG_TYPE.BPF_PROG_TYPE_SOCKET_FILTER: {
      if (i.dataIn === undefined) throw new UsageError(`a ${progTypeName(p.type)} program needs --data-in (the packet from its Ethernet header)`);
      const r = bpfProgTestRunSkb(p, { ...common, dataIn: i.dataIn, ctxIn: i.ctxIn, ctxOut: i.ctxOut });
      return { retval: r.retval, dataOut: r.dataOut, ctxOut: r.ctxOut, durationNs: r.durationNs, repeat: r.repeat };
    }
    default: {
      if (i.dataIn === undefined) throw new UsageError('--data-in is required (the packet from its Ethernet header)');
      const r = bpfProgTestRun(p, { ...common, dataIn: i.dataIn, ctxIn: i.ctxIn, ctxOut: i.ctxOut });
      return { retval: r.retval, dataOut: r.dataOut, ctxOut: r.ctxOut, durationNs: r.durationNs, repeat: r.repeat };
    }
  }
}

export function progRun(obj: string, o: RunFlags): void {
  const repeat = positiveInt(o.repeat, '--repeat');
  const engine = o.engine === undefined ? undefined : engineOption(o.engine);
  if (o.dataIn === '-' && o.ctxIn === '-') throw new UsageError('--data-in and --ctx-in cannot both read standard input');
  const dataIn = o.dataIn === undefined ? undefined : readInput(o.dataIn, '--data-in');
  const ctxIn = o.ctxIn === undefined ? undefined : readInput(o.ctxIn, '--ctx-in');
  const coll = loadObjectFile(obj);
  if (coll.programs.size === 0) throw noPrograms(obj, coll, 'run');
  const p = coll.program(o.section);
  const dest = traceDest(o);
  const trace = new TraceOutput(dest, o.json === true);
  let res: RunResult;
  try {
    if (!o.verify) warnIfRejected(p);
    res = testRun(p, { dataIn, ctxIn, ctxOut: o.ctxOut !== undefined, repeat, engine, verify: o.verify, trace });
  } catch (e) {
    trace.close();
    // The lines a faulting program printed explain the fault: with --json they would go with the JSON.
    if (o.json && dest === undefined && o.trace !== false) trace.spillTo(process.stderr);
    if (!(e instanceof VerifierError)) throw e;
    process.stderr.write(e.log);
    // A helper vxo lacks stops an unverified run too: do not suggest one.
    const hint = e.code === 'EOPNOTSUPP' ? '' : ' (--no-verify runs it anyway)';
    throw new ProgramRejected(`verifier rejected ${p.name}: ${e.message}${hint}`);
  }
  trace.close();
  if (o.dataOut !== undefined && o.dataOut !== '-' && res.dataOut) writeOutput(o.dataOut, res.dataOut, '--data-out');
  if (o.ctxOut !== undefined && o.ctxOut !== '-' && res.ctxOut) writeOutput(o.ctxOut, res.ctxOut, '--ctx-out');
  // The records the run left in RINGBUF maps, consumed as a user-space reader would.
  const rings: Record<string, string[]> = {};
  for (const [name, m] of coll.maps) if (m instanceof RingBufMap) rings[name] = drainRingBuf(m).map(toHex);
  if (o.json) {
    const maps: Record<string, { key: string; value: string }[]> = {};
    for (const [name, m] of coll.maps) maps[name] = dumpMap(m).map((e) => ({ key: toHex(e.key), value: toHex(e.value) }));
    const j: Record<string, unknown> = { retval: res.retval, duration_ns: res.durationNs, repeat: res.repeat };
    if (res.dataOut) j['data_out'] = toHex(res.dataOut);
    if (res.ctxOut) j['ctx_out'] = toHex(res.ctxOut);
    j['trace'] = trace.texts;
    if (trace.lost > 0) j['trace_lost'] = trace.lost;
    j['maps'] = maps;
    if (Object.keys(rings).length > 0) j['ringbuf'] = rings;
    console.log(JSON.stringify(j));
    return;
  }
  // bpftool prints the outputs sent to `-` first, then the result line.
  if (o.dataOut === '-' && res.dataOut) process.stdout.write(hexPrint(res.dataOut));
  if (o.ctxOut === '-' && res.ctxOut) process.stdout.write(hexPrint(res.ctxOut));
  console.log(`Return value: ${res.retval}, duration${res.repeat > 1 ? ' (average)' : ''}: ${res.durationNs}ns`);
  for (const [name, recs] of Object.entries(rings)) {
    console.log(`ringbuf ${name}: ${recs.length} record${recs.length === 1 ? '' : 's'}`);
    for (const r of recs) console.log(`  ${r}`);
  }
}
