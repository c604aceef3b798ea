// What `vxo packetdrill` does (its options are in packetdrill-commands.ts): runs each script,
// prints packetdrill-style results (or JSON), and ends with the exit status the command promises.
import { readFileSync } from 'node:fs';
import { runScriptText, type ScriptResult } from '../packetdrill/runner.ts';
import type { CliOption } from '../packetdrill/config.ts';
import { UsageError } from './errors.ts';

export interface PacketdrillFlags {
  json?: boolean;
  verbose?: boolean;
}

/** A script failed (exit status 1); the results are already printed. */
export class PacketdrillFailed extends Error {
  readonly code = 'EPKTFAIL';
  constructor(message: string) {
    super(message);
    this.name = 'PacketdrillFailed';
  }
}

/** Splits the arguments into scripts and `--name[=value]` packetdrill options. */
function splitArgs(args: readonly string[]): { scripts: string[]; options: CliOption[] } {
  const scripts: string[] = [];
  const options: CliOption[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const m = /^--([A-Za-z0-9_]+)(?:=(.*))?$/.exec(a);
    if (m !== null) options.push({ name: m[1]!, value: m[2] });
    else if (a === '-D' && i + 1 < args.length) options.push({ name: 'define', value: args[++i] });
    else if (a.startsWith('-D')) options.push({ name: 'define', value: a.slice(2) });
    else scripts.push(a);
  }
  return { scripts, options };
}

export async function packetdrillCommand(args: string[], f: PacketdrillFlags): Promise<void> {
  const { scripts, options } = splitArgs(args);
  if (scripts.length === 0) throw new UsageError('vxo packetdrill: no script given');
  const results: ScriptResult[] = [];
  for (const file of scripts) {
    let src: string;
    try {
      src = readFileSync(file, 'utf8');
    } catch (e) {
      results.push({ file, status: 'error', message: `${file}: cannot read: ${(e as Error).message}`, events_run: 0, nstat: {} });
      continue;
    }
    const lines: string[] = [];
    const r = await runScriptText(file, src, { options, verbose: f.verbose === true ? (l) => lines.push(l) : undefined });
    results.push(r);
    if (f.json !== true) {
      for (const l of lines) process.stdout.write(`${l}\n`);
      if (f.verbose === true) process.stdout.write(`nstat: ${Object.entries(r.nstat).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
      if (r.status === 'pass') process.stdout.write(`${file}: pass (${r.events_run} events)\n`);
      else process.stdout.write(`${r.message}\n${file}: ${r.status === 'fail' ? 'FAIL' : 'ERROR'}\n`);
    }
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const errors = results.filter((r) => r.status === 'error').length;
  if (f.json === true) {
    process.stdout.write(`${JSON.stringify({ passed: results.length - failed - errors, failed, errors, scripts: results }, null, 2)}\n`);
  } else if (results.length > 1) {
    process.stdout.write(`${results.length - failed - errors} passed, ${failed} failed, ${errors} could not run\n`);
  }
  if (errors > 0) throw new UsageError(`${errors} of ${results.length} scripts could not run`);
  if (failed > 0) throw new PacketdrillFailed(`${failed} of ${results.length} scripts failed`);
}
