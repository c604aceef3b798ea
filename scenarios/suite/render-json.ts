// The suites' `--json FILE` document: the SuiteReport as it is (scenarios/suite/types.ts), with
// every NaN (a figure that did not apply) written as null and read back as NaN, so a saved file
// re-renders with the same renderers. `vxo table --suite all --json FILE` writes one document
// holding the offload table's JSON (scenarios/report/json.ts, unchanged) and every other suite's.
//
// The shape (for the README):
//
//   one suite                         --suite all
//   {                                 { "offload": <the offload table's JSON (vxo table --json)>,
//     "suite": "xdp-sk",                "suites": [ <one suite's document>, ... ] }
//     "title": "...", "source": "...",
//     "rows": ["udp4 no socket", ...], "columns": ["stack", "xdp1", ...], "baseline": "stack",
//     "cells": [{
//       "id": "udp4 no socket/firewall", "row": "...", "column": "...",
//       "metric": "guest rx", "unit": "pps",
//       "median": 1.2e5, "min": ..., "max": ...,      // of the runs' values
//       "delta": -0.04,                               // median/baseline − 1; absent for the baseline
//       "published": [{ "source": "v1 (5.6.3)", "value": 939616, "spread"?: 0.005, "delta"?: -0.01 }],
//       "explain": { name: number|null },             // the median run's derived figures
//       "notes": ["offload refused: ..."],
//       "runs": [{ "value": ..., "seconds": ..., "balanced": true,
//                  "counters": { name: number|null },  // the window's increases
//                  "explain": { name: number|null },
//                  "cpu"?: { thread: share of a core },
//                  "notes"?: [string] }]        // a run that threw: value null, seconds 0,
//                                                 // balanced false, notes ["run failed: <message> (<code>)"]
//     }],
//     "findings": ["..."], "balanced": true,
//     "machine": { "cpu", "cores", "node", "platform", "kernel" },
//     "options": { "duration", "warmup", "repeat", "engine", "cells"?: [id] },
//     "started": "ISO 8601", "vxo_version": "0.1.0"
//   }
import { ReportError } from '../report/errors.ts';
import { toJson, type TableJson } from '../report/json.ts';
import type { TableReport } from '../report/types.ts';
import { SUITE_IDS, type SuiteReport } from './types.ts';

/** A value's JSON form: numbers may be null (NaN, ±Infinity), everything else as it is. */
export type JsonNumbers<T> = T extends number ? number | null
  : T extends readonly (infer U)[] ? JsonNumbers<U>[]
  : T extends object ? { -readonly [K in keyof T]: JsonNumbers<T[K]> }
  : T;

export type SuiteReportJson = JsonNumbers<SuiteReport>;

export interface SuitesJson {
  offload?: TableJson;
  suites: SuiteReportJson[];
}

const nanToNull = (_k: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? null : v);
// Every null in a suite's document stands for a number: its optional fields are left out, never null.
const nullToNaN = (_k: string, v: unknown): unknown => (v === null ? NaN : v);

export function suiteJson(r: SuiteReport): SuiteReportJson {
  return JSON.parse(JSON.stringify(r, nanToNull)) as SuiteReportJson;
}

/** The file's text: two-space indent and a trailing newline, as the offload table's. */
export function suiteJsonText(r: SuiteReport): string {
  return `${JSON.stringify(r, nanToNull, 2)}\n`;
}

/** `--suite all`: the offload table (its own JSON) and every other suite. */
export function suitesJsonText(offload: TableReport | undefined, suites: readonly SuiteReport[]): string {
  const doc: SuitesJson = { ...(offload !== undefined ? { offload: toJson(offload) } : {}), suites: suites.map(suiteJson) };
  return `${JSON.stringify(doc, nanToNull, 2)}\n`;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): boolean => typeof x === 'number' || x === null;

/** Every problem with a parsed suite document, each with its path (empty: it is a SuiteReport). */
export function checkSuiteJson(x: unknown): string[] {
  const errs: string[] = [];
  if (!isObj(x)) return ['$: not an object'];
  if (typeof x['suite'] !== 'string' || x['suite'] === 'offload' || !(SUITE_IDS as readonly string[]).includes(x['suite'])) errs.push(`$.suite: ${JSON.stringify(x['suite'])} is not a suite id`);
  for (const k of ['title', 'source', 'started', 'vxo_version']) if (typeof x[k] !== 'string') errs.push(`$.${k}: not a string`);
  for (const k of ['rows', 'columns', 'findings']) {
    const a = x[k];
    if (!Array.isArray(a) || !a.every((s) => typeof s === 'string')) errs.push(`$.${k}: not an array of strings`);
  }
  if (x['baseline'] !== undefined && typeof x['baseline'] !== 'string') errs.push('$.baseline: not a string');
  if (typeof x['balanced'] !== 'boolean') errs.push('$.balanced: not a boolean');
  if (!isObj(x['machine'])) errs.push('$.machine: not an object');
  const o = x['options'];
  if (!isObj(o)) errs.push('$.options: not an object');
  else for (const k of ['duration', 'warmup', 'repeat']) if (typeof o[k] !== 'number') errs.push(`$.options.${k}: not a number`);
  const cells = x['cells'];
  if (!Array.isArray(cells)) return [...errs, '$.cells: not an array'];
  cells.forEach((c: unknown, i) => {
    const p = `$.cells[${i}]`;
    if (!isObj(c)) {
      errs.push(`${p}: not an object`);
      return;
    }
    for (const k of ['id', 'row', 'column', 'metric', 'unit']) if (typeof c[k] !== 'string') errs.push(`${p}.${k}: not a string`);
    for (const k of ['median', 'min', 'max']) if (!isNum(c[k])) errs.push(`${p}.${k}: not a number or null`);
    if (c['delta'] !== undefined && !isNum(c['delta'])) errs.push(`${p}.delta: not a number or null`);
    if (!Array.isArray(c['notes'])) errs.push(`${p}.notes: not an array`);
    if (!isObj(c['explain'])) errs.push(`${p}.explain: not an object`);
    const pub = c['published'];
    if (!Array.isArray(pub)) errs.push(`${p}.published: not an array`);
    else pub.forEach((f: unknown, j) => {
      if (!isObj(f) || typeof f['source'] !== 'string' || !isNum(f['value'])) errs.push(`${p}.published[${j}]: not { source, value }`);
    });
    const runs = c['runs'];
    if (!Array.isArray(runs)) errs.push(`${p}.runs: not an array`);
    else runs.forEach((r: unknown, j) => {
      if (!isObj(r) || !isNum(r['value']) || typeof r['seconds'] !== 'number' || typeof r['balanced'] !== 'boolean' || !isObj(r['counters']) || !isObj(r['explain'])) {
        errs.push(`${p}.runs[${j}]: not { value, seconds, balanced, counters, explain }`);
      }
    });
  });
  return errs;
}

/** A saved suite document back to a SuiteReport (nulls to NaN); ReportError EINVAL listing every problem. */
export function parseSuiteJson(text: string): SuiteReport {
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch (cause) {
    throw new ReportError('EINVAL', `not JSON: ${(cause as Error).message}`, { cause });
  }
  const errs = checkSuiteJson(x);
  if (errs.length > 0) throw new ReportError('EINVAL', `not a suite report:\n  ${errs.join('\n  ')}`);
  return JSON.parse(text, nullToNaN) as SuiteReport;
}
