// `vxo table --suite ID|all`: one experiments suite, or every one (the offload RFC's table first,
// through its own runner and report, then each other suite through the suite runner), printed on
// stdout, progress on stderr, --json and --html written when the runs end (their paths checked
// before the first). Loaded only when the command runs: it brings in the runners and the reports.
import { writeFileSync } from 'node:fs';
import { checkOutputPath } from '../run/output-path.ts';
import { isRunFailure, RunError } from '../run/run-error.ts';
import { runTable } from '../run/table.ts';
import { renderTextTable, shouldColor, toHtml, toJsonText } from '../report/index.ts';
import type { TableReport } from '../report/types.ts';
import { isSuiteId, loadSuite, SUITE_MODULE_IDS } from '../suite/registry.ts';
import { runSuite } from '../suite/run-suite.ts';
import { renderSuiteText } from '../suite/render-text.ts';
import { suiteJsonText, suitesJsonText } from '../suite/render-json.ts';
import { suiteHtml, suitesHtml } from '../suite/render-html.ts';
import type { SuiteOptions, SuiteReport } from '../suite/types.ts';
import { UsageError } from './errors.ts';

export interface SuiteFlags {
  /** A suite id (scenarios/suite/types.ts SUITE_IDS) or 'all'. */
  suite: string;
  repeat: string;
  duration: string;
  warmup: string;
  engine: string;
  json?: string;
  html?: string;
  /** Comma-separated cell ids of the one suite named (not with 'all'). */
  cells?: string;
}

/** Decimal notation only, as run-actions.ts parses the other commands' numbers. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function num(name: string, v: string): number {
  if (!NUMBER.test(v)) throw new UsageError(`--${name} ${JSON.stringify(v)}: not a number`);
  return Number(v);
}

export interface SuiteCommandResult {
  offload?: TableReport;
  suites: SuiteReport[];
}

export async function runSuiteCommand(f: SuiteFlags): Promise<SuiteCommandResult> {
  if (f.suite !== 'all' && !isSuiteId(f.suite)) throw new UsageError(`--suite ${f.suite}: offload, sk-lookup, xdp-sk, syncookie, netperf or all`);
  if (f.engine !== 'jit' && f.engine !== 'interp') throw new UsageError(`--engine ${f.engine}: interp or jit`);
  if (f.suite === 'all' && f.cells !== undefined) throw new UsageError('--cells: only with one suite (cell ids are per suite)');
  if (f.json !== undefined) checkOutputPath(f.json, '--json');
  if (f.html !== undefined) checkOutputPath(f.html, '--html');
  const o: SuiteOptions = {
    duration: num('duration', f.duration), warmup: num('warmup', f.warmup), repeat: num('repeat', f.repeat), engine: f.engine,
    ...(f.cells !== undefined ? { cells: f.cells.split(',') } : {}),
  };
  const color = shouldColor(process.stdout);
  const out: SuiteCommandResult = { suites: [] };

  if (f.suite === 'offload' || f.suite === 'all') {
    out.offload = await runTable({
      duration: o.duration, warmup: o.warmup, repeat: o.repeat, vhostPollUs: 0, engine: f.engine,
      ratePps: undefined, lineRate: null, pktSize: 60, flows: 1, progress: true,
      ...(f.cells !== undefined ? { cells: f.cells } : {}),
    });
    process.stdout.write(renderTextTable(out.offload, { color }) + '\n');
  }
  const ids = f.suite === 'all' ? SUITE_MODULE_IDS : f.suite === 'offload' ? [] : [f.suite];
  let failed = false;
  for (const id of ids) {
    try {
      const suite = await loadSuite(id);
      const r = await runSuite(suite, { ...o, progress: true });
      out.suites.push(r);
      if (out.offload !== undefined || out.suites.length > 1) process.stdout.write('\n');
      process.stdout.write(renderSuiteText(r, { color }) + '\n');
      if (!r.balanced) process.exitCode = 1;
    } catch (e) {
      // One suite failing (or not written yet) does not lose the others' results under `all`.
      if (f.suite !== 'all' || !(e instanceof RunError || isRunFailure(e))) throw e;
      failed = true;
      process.stderr.write(`vxo table --suite all: ${id}: ${e.message} (${e.code})\n`);
    }
  }
  if (failed) process.exitCode = 1;

  const single = f.suite !== 'all' && f.suite !== 'offload' ? out.suites[0] : undefined;
  if (f.json !== undefined) {
    writeFileSync(f.json, f.suite === 'offload' && out.offload !== undefined ? toJsonText(out.offload)
      : single !== undefined ? suiteJsonText(single) : suitesJsonText(out.offload, out.suites));
  }
  if (f.html !== undefined) {
    writeFileSync(f.html, f.suite === 'offload' && out.offload !== undefined ? await toHtml(out.offload)
      : single !== undefined ? await suiteHtml(single) : await suitesHtml(out.offload, out.suites));
  }
  return out;
}
