// The `--json FILE` document. Its shape is documented in issue 7 and consumed by other tools, so
// it is built field by field (extra runtime properties on a Cell never leak in) and checked by
// `checkTableJson`, which the tests use to pin the shape.
//
// JSON has no NaN: a counter that did not apply is written as null and read back as NaN.

import { sharedMachineFlag } from './cpu.ts';
import { ReportError } from './errors.ts';
import { paperMpps } from './paper.ts';
import { isUserTable } from './rows.ts';
import { EXPLAIN_KEYS } from './types.ts';
import type { CaseId, Cell, CellProg, Explain, Machine, Mode, ProgId, RunSample, TableOptions, TableReport, UserProgram } from './types.ts';
import { shapeVerdict, type ShapeStatus, type ShapeVerdict } from './verdict.ts';

export type JsonNumber = number | null;

export interface ExplainJson {
  vhost_wakeups_per_sec: JsonNumber;
  pkts_per_vhost_wakeup: JsonNumber;
  tap_batch_avg: JsonNumber;
  copies_per_packet: JsonNumber;
  guest_interrupts_per_sec: JsonNumber;
  ring_full_drops_per_sec: JsonNumber;
  [k: string]: JsonNumber;
}

export interface RunJson {
  mpps: JsonNumber;
  packets: number;
  seconds: number;
  balanced: boolean;
  explain: ExplainJson;
  counters: Record<string, JsonNumber>;
}

export interface CellJson {
  case: CaseId;
  /** 'xdp1', 'xdp2', or 'user' for the program the top-level `program` names. */
  prog: CellProg;
  mode: Mode;
  mpps: JsonNumber;
  min: JsonNumber;
  max: JsonNumber;
  runs: RunJson[];
  /** The RFC's figure; null for the user's program. */
  paper_mpps: JsonNumber;
  explain: ExplainJson;
}

export interface ProgRatioJson {
  prog: ProgId;
  ours: JsonNumber;
  paper: number;
}

/** shapeVerdict's answer: does the table have the RFC's shape (the terminal report's last lines). */
export interface VerdictJson {
  status: ShapeStatus;
  cases: { case: CaseId; expectation: string; status: ShapeStatus; ratios: ProgRatioJson[] }[];
  /** Cells at or above the RFC's Mpps, of the `measured` cells that produced a number. */
  at_or_above_rfc: number;
  measured: number;
}

export interface TableJson {
  cells: CellJson[];
  machine: Machine;
  options: TableOptions;
  started: string;
  vxo_version: string;
  /** The user's program, when the cells ran it in place of xdp1 and xdp2 (`vxo table --prog`). */
  program?: UserProgram;
  /** The verdict on the RFC's shape; null for the user's program, which the RFC has no figure for. */
  verdict: VerdictJson | null;
  /** Other processes or steal time took a notable share of a core in some cell: its figures measure that load too. */
  shared_machine: boolean;
  /** Those cells, e.g. "2/xdp1/native". */
  shared_cells: string[];
}

const num = (x: number): JsonNumber => (Number.isFinite(x) ? x : null);

function numbers(r: Readonly<Record<string, number>>): Record<string, JsonNumber> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, num(v)]));
}

function explainJson(e: Explain): ExplainJson {
  // Standard keys first and always present, so every cell's explain has the same leading shape.
  const std = Object.fromEntries(EXPLAIN_KEYS.map((k) => [k, num(e[k])])) as Record<(typeof EXPLAIN_KEYS)[number], JsonNumber>;
  return { ...std, ...numbers(e) };
}

function runJson(r: RunSample): RunJson {
  return {
    mpps: num(r.mpps),
    packets: r.packets,
    seconds: r.seconds,
    balanced: r.balanced,
    explain: explainJson(r.explain),
    counters: numbers(r.counters),
  };
}

function cellJson(c: Cell): CellJson {
  return {
    case: c.case,
    prog: c.prog,
    mode: c.mode,
    mpps: num(c.mpps),
    min: num(c.min),
    max: num(c.max),
    runs: c.runs.map(runJson),
    paper_mpps: num(c.paper_mpps),
    explain: explainJson(c.explain),
  };
}

export function verdictJson(v: ShapeVerdict): VerdictJson {
  return {
    status: v.status,
    cases: v.cases.map((c) => ({
      case: c.case, expectation: c.expectation, status: c.status,
      ratios: c.ratios.map((r) => ({ prog: r.prog, ours: num(r.ours), paper: r.paper })),
    })),
    at_or_above_rfc: v.atOrAboveRfc,
    measured: v.measured,
  };
}

function isUser(report: Pick<TableReport, 'cells' | 'program'>): boolean {
  return report.program !== undefined || isUserTable(report.cells);
}

export function toJson(report: TableReport): TableJson {
  const o = report.options;
  const shared = sharedMachineFlag(report.cells);
  return {
    cells: report.cells.map(cellJson),
    machine: { ...report.machine },
    options: {
      duration: o.duration,
      warmup: o.warmup,
      repeat: o.repeat,
      lineRate: o.lineRate,
      vhostPollUs: o.vhostPollUs,
      engine: o.engine,
      ...(o.queues !== undefined ? { queues: o.queues } : {}),
    },
    started: report.started,
    vxo_version: report.vxo_version,
    ...(report.program !== undefined ? { program: { object: report.program.object, section: report.program.section } } : {}),
    verdict: isUser(report) ? null : verdictJson(shapeVerdict(report.cells)),
    shared_machine: shared.shared,
    shared_cells: shared.cells,
  };
}

/** The file's text: two-space indent and a trailing newline, so diffs of saved reports stay small. */
export function toJsonText(report: TableReport): string {
  return `${JSON.stringify(toJson(report), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------
// Checking: every problem is reported (not just the first) with a path, so a failing test or a
// rejected file says everything that is wrong at once.

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'array';
  if (typeof x === 'number' && Number.isNaN(x)) return 'NaN';
  return typeof x === 'string' ? `string ${JSON.stringify(x)}` : typeof x;
}

class Checker {
  readonly problems: string[] = [];

  obj(x: unknown, path: string): Obj | undefined {
    if (isObj(x)) return x;
    this.problems.push(`${path}: expected an object, got ${describe(x)}`);
    return undefined;
  }

  field(o: Obj, key: string, path: string): unknown {
    if (!Object.hasOwn(o, key)) {
      this.problems.push(`${path}.${key}: missing`);
      return undefined;
    }
    return o[key];
  }

  string(o: Obj, key: string, path: string): void {
    if (!Object.hasOwn(o, key)) return void this.field(o, key, path);
    const v = o[key];
    if (typeof v !== 'string') this.problems.push(`${path}.${key}: expected a string, got ${describe(v)}`);
  }

  /** A finite number (JSON has no NaN/Infinity); `nullable` for counters that may not apply. */
  number(o: Obj, key: string, path: string, want: { nullable?: boolean; integer?: boolean; min?: number } = {}): void {
    if (!Object.hasOwn(o, key)) return void this.field(o, key, path);
    this.value(o[key], `${path}.${key}`, want);
  }

  value(v: unknown, path: string, want: { nullable?: boolean; integer?: boolean; min?: number }): void {
    if (v === null && want.nullable === true) return;
    const kind = want.integer === true ? 'an integer' : 'a number';
    if (typeof v !== 'number' || !Number.isFinite(v) || (want.integer === true && !Number.isInteger(v))) {
      this.problems.push(`${path}: expected ${kind}${want.nullable === true ? ' or null' : ''}, got ${describe(v)}`);
    } else if (want.min !== undefined && v < want.min) {
      this.problems.push(`${path}: expected >= ${want.min}, got ${v}`);
    }
  }

  oneOf(o: Obj, key: string, path: string, allowed: readonly unknown[]): void {
    if (!Object.hasOwn(o, key)) return void this.field(o, key, path);
    const v = o[key];
    if (!allowed.includes(v)) {
      this.problems.push(`${path}.${key}: expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(v)}`);
    }
  }

  numberMap(x: unknown, path: string): void {
    const o = this.obj(x, path);
    if (o === undefined) return;
    for (const [k, v] of Object.entries(o)) this.value(v, `${path}.${k}`, { nullable: true });
  }

  explain(x: unknown, path: string): void {
    const o = this.obj(x, path);
    if (o === undefined) return;
    for (const k of EXPLAIN_KEYS) if (!Object.hasOwn(o, k)) this.problems.push(`${path}.${k}: missing`);
    this.numberMap(o, path);
  }

  run(x: unknown, path: string): void {
    const o = this.obj(x, path);
    if (o === undefined) return;
    this.number(o, 'mpps', path, { nullable: true, min: 0 });
    this.number(o, 'packets', path, { integer: true, min: 0 });
    this.number(o, 'seconds', path, { min: 0 });
    if (Object.hasOwn(o, 'balanced') && typeof o['balanced'] !== 'boolean') {
      this.problems.push(`${path}.balanced: expected a boolean, got ${describe(o['balanced'])}`);
    } else if (!Object.hasOwn(o, 'balanced')) this.field(o, 'balanced', path);
    this.explain(this.field(o, 'explain', path), `${path}.explain`);
    if (Object.hasOwn(o, 'counters')) this.numberMap(o['counters'], `${path}.counters`);
    else this.field(o, 'counters', path);
  }

  cell(x: unknown, path: string): string | undefined {
    const o = this.obj(x, path);
    if (o === undefined) return undefined;
    this.oneOf(o, 'case', path, [1, 2]);
    this.oneOf(o, 'prog', path, ['xdp1', 'xdp2', 'user']);
    this.oneOf(o, 'mode', path, ['native', 'offload']);
    for (const k of ['mpps', 'min', 'max']) this.number(o, k, path, { nullable: true, min: 0 });
    if (o['prog'] === 'user') {
      if (!Object.hasOwn(o, 'paper_mpps')) this.field(o, 'paper_mpps', path);
      else if (o['paper_mpps'] !== null) this.problems.push(`${path}.paper_mpps: the RFC has no figure for the user's program, expected null, got ${describe(o['paper_mpps'])}`);
    } else this.number(o, 'paper_mpps', path, { min: 0 });
    const { case: c, prog, mode, mpps, min, max, paper_mpps: paper } = o;
    if (typeof mpps === 'number' && typeof min === 'number' && typeof max === 'number' && !(min <= mpps && mpps <= max)) {
      this.problems.push(`${path}: expected min <= mpps <= max, got ${min} <= ${mpps} <= ${max}`);
    }
    const known = (c === 1 || c === 2) && (prog === 'xdp1' || prog === 'xdp2') && (mode === 'native' || mode === 'offload');
    if (known && typeof paper === 'number' && paper !== paperMpps(c, prog, mode)) {
      this.problems.push(`${path}.paper_mpps: the RFC's figure for ${c}/${prog}/${mode} is ${paperMpps(c, prog, mode)}, got ${paper}`);
    }
    const runs = this.field(o, 'runs', path);
    if (Array.isArray(runs)) {
      if (runs.length === 0) this.problems.push(`${path}.runs: expected at least one run`);
      runs.forEach((r, i) => this.run(r, `${path}.runs[${i}]`));
    } else if (runs !== undefined) this.problems.push(`${path}.runs: expected an array, got ${describe(runs)}`);
    this.explain(this.field(o, 'explain', path), `${path}.explain`);
    const user = (c === 1 || c === 2) && prog === 'user' && (mode === 'native' || mode === 'offload');
    return known || user ? `${c}/${String(prog)}/${String(mode)}` : undefined;
  }

  program(x: unknown, path: string): void {
    const o = this.obj(x, path);
    if (o === undefined) return;
    this.string(o, 'object', path);
    if (!Object.hasOwn(o, 'section')) this.field(o, 'section', path);
    else if (o['section'] !== null && typeof o['section'] !== 'string') {
      this.problems.push(`${path}.section: expected a string or null, got ${describe(o['section'])}`);
    }
  }

  verdict(x: unknown, path: string): void {
    const o = this.obj(x, path);
    if (o === undefined) return;
    const statuses = ['holds', 'broken', 'incomplete'];
    this.oneOf(o, 'status', path, statuses);
    this.number(o, 'at_or_above_rfc', path, { integer: true, min: 0 });
    this.number(o, 'measured', path, { integer: true, min: 0 });
    const cases = this.field(o, 'cases', path);
    if (!Array.isArray(cases)) {
      if (cases !== undefined) this.problems.push(`${path}.cases: expected an array, got ${describe(cases)}`);
      return;
    }
    cases.forEach((cv, i) => {
      const p = `${path}.cases[${i}]`;
      const co = this.obj(cv, p);
      if (co === undefined) return;
      this.oneOf(co, 'case', p, [1, 2]);
      this.string(co, 'expectation', p);
      this.oneOf(co, 'status', p, statuses);
      const ratios = this.field(co, 'ratios', p);
      if (!Array.isArray(ratios)) {
        if (ratios !== undefined) this.problems.push(`${p}.ratios: expected an array, got ${describe(ratios)}`);
        return;
      }
      ratios.forEach((r, j) => {
        const ro = this.obj(r, `${p}.ratios[${j}]`);
        if (ro === undefined) return;
        this.oneOf(ro, 'prog', `${p}.ratios[${j}]`, ['xdp1', 'xdp2']);
        this.number(ro, 'ours', `${p}.ratios[${j}]`, { nullable: true, min: 0 });
        this.number(ro, 'paper', `${p}.ratios[${j}]`, { min: 0 });
      });
    });
  }

  machine(x: unknown, path: string): void {
    const o = this.obj(x, path);
    if (o === undefined) return;
    for (const k of ['cpu', 'node', 'platform', 'kernel']) this.string(o, k, path);
    this.number(o, 'cores', path, { integer: true, min: 1 });
  }

  options(x: unknown, path: string): void {
    const o = this.obj(x, path);
    if (o === undefined) return;
    this.number(o, 'duration', path, { min: 0 });
    this.number(o, 'warmup', path, { min: 0 });
    this.number(o, 'repeat', path, { integer: true, min: 1 });
    this.number(o, 'vhostPollUs', path, { min: 0 });
    this.string(o, 'engine', path);
    if (!Object.hasOwn(o, 'lineRate')) this.field(o, 'lineRate', path);
    else if (o['lineRate'] !== null && typeof o['lineRate'] !== 'string') {
      this.problems.push(`${path}.lineRate: expected a string or null, got ${describe(o['lineRate'])}`);
    }
    if (Object.hasOwn(o, 'queues')) this.number(o, 'queues', path, { integer: true, min: 1 });
  }
}

export interface CheckOptions {
  /** Require all eight cells (a full `vxo table` run); off for partial runs. */
  complete?: boolean;
  /**
   * Require the fields derived from the cells (verdict, shared_machine, shared_cells), which
   * toJson always writes (default). Off to read files written before they existed; present, they
   * are checked either way, and against the cells.
   */
  derived?: boolean;
}

/** Every way `obj` departs from the documented `--json` shape; empty when it conforms. */
export function checkTableJson(obj: unknown, opts: CheckOptions = {}): string[] {
  const ck = new Checker();
  const top = ck.obj(obj, '$');
  if (top === undefined) return ck.problems;
  const cells = ck.field(top, 'cells', '$');
  const names: string[] = [];
  if (Array.isArray(cells)) {
    cells.forEach((c, i) => {
      const name = ck.cell(c, `$.cells[${i}]`);
      if (name === undefined) return;
      if (names.includes(name)) ck.problems.push(`$.cells[${i}]: cell ${name} appears twice`);
      names.push(name);
    });
    const users = names.filter((n) => n.includes('/user/')).length;
    const want = users > 0 ? 4 : 8;
    if (opts.complete === true && names.length < want) {
      ck.problems.push(`$.cells: expected all ${want} cells, got ${names.length}`);
    }
    if (users > 0 && users < names.length) ck.problems.push(`$.cells: the user's program and the RFC's programs in one table`);
    if (users > 0 && !Object.hasOwn(top, 'program')) ck.problems.push(`$.program: missing (the cells ran the user's program)`);
  } else if (cells !== undefined) ck.problems.push(`$.cells: expected an array, got ${describe(cells)}`);
  if (Object.hasOwn(top, 'program')) ck.program(top['program'], '$.program');
  ck.machine(ck.field(top, 'machine', '$'), '$.machine');
  ck.options(ck.field(top, 'options', '$'), '$.options');
  ck.string(top, 'started', '$');
  if (typeof top['started'] === 'string' && Number.isNaN(Date.parse(top['started']))) {
    ck.problems.push(`$.started: expected an ISO 8601 time, got ${JSON.stringify(top['started'])}`);
  }
  ck.string(top, 'vxo_version', '$');
  checkDerived(ck, top, opts.derived ?? true);
  return ck.problems;
}

/** The verdict and the shared-machine flag: their shape, then (on well-formed cells) that they are the cells'. */
function checkDerived(ck: Checker, top: Obj, required: boolean): void {
  const has = (k: string): boolean => Object.hasOwn(top, k);
  if (required) for (const k of ['verdict', 'shared_machine', 'shared_cells']) if (!has(k)) ck.field(top, k, '$');
  if (has('verdict') && top['verdict'] !== null) ck.verdict(top['verdict'], '$.verdict');
  if (has('shared_machine') && typeof top['shared_machine'] !== 'boolean') {
    ck.problems.push(`$.shared_machine: expected a boolean, got ${describe(top['shared_machine'])}`);
  }
  if (has('shared_cells')) {
    const sc = top['shared_cells'];
    if (!Array.isArray(sc)) ck.problems.push(`$.shared_cells: expected an array, got ${describe(sc)}`);
    else sc.forEach((x, i) => { if (typeof x !== 'string') ck.problems.push(`$.shared_cells[${i}]: expected a string, got ${describe(x)}`); });
  }
  if (ck.problems.length > 0) return;
  // Well-formed: the derived fields must say what the cells say.
  const doc = top as unknown as TableJson;
  const cells = doc.cells.map(cellFrom);
  const user = doc.program !== undefined || isUserTable(cells);
  if (has('verdict')) {
    if (user && doc.verdict !== null) ck.problems.push(`$.verdict: expected null for the user's program, got an object`);
    if (!user) {
      const want = shapeVerdict(cells).status;
      if (doc.verdict === null) ck.problems.push(`$.verdict: expected the verdict on the RFC's shape, got null`);
      else if (doc.verdict.status !== want) ck.problems.push(`$.verdict.status: the cells give ${JSON.stringify(want)}, got ${JSON.stringify(doc.verdict.status)}`);
    }
  }
  const flag = sharedMachineFlag(cells);
  if (has('shared_machine') && doc.shared_machine !== flag.shared) {
    ck.problems.push(`$.shared_machine: the cells' CPU figures give ${flag.shared}, got ${doc.shared_machine}`);
  }
  if (has('shared_cells') && JSON.stringify(doc.shared_cells) !== JSON.stringify(flag.cells)) {
    ck.problems.push(`$.shared_cells: the cells' CPU figures give ${JSON.stringify(flag.cells)}, got ${JSON.stringify(doc.shared_cells)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading back, so a saved report can be re-rendered (e.g. to HTML) without re-running.

const nan = (x: JsonNumber): number => x ?? NaN;

function nanMap(r: Readonly<Record<string, JsonNumber>>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, nan(v)]));
}

function explainOf(e: ExplainJson): Explain {
  return nanMap(e) as Explain; // checkTableJson has verified the standard keys are present
}

function cellFrom(c: CellJson): Cell {
  return {
    case: c.case,
    prog: c.prog,
    mode: c.mode,
    mpps: nan(c.mpps),
    min: nan(c.min),
    max: nan(c.max),
    runs: c.runs.map((r) => ({
      mpps: nan(r.mpps),
      packets: r.packets,
      seconds: r.seconds,
      balanced: r.balanced,
      explain: explainOf(r.explain),
      counters: nanMap(r.counters),
    })),
    paper_mpps: nan(c.paper_mpps),
    explain: explainOf(c.explain),
  };
}

/** Parse a `--json` file's text back into a TableReport; ReportError EINVAL lists every problem. */
export function parseTableJson(text: string): TableReport {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (cause) {
    throw new ReportError('EINVAL', 'report is not JSON', { cause });
  }
  // Files from before the derived fields existed still read: they are recomputed from the cells.
  const problems = checkTableJson(obj, { derived: false });
  if (problems.length > 0) throw new ReportError('EINVAL', `report does not match the table shape:\n  ${problems.join('\n  ')}`);
  const doc = obj as TableJson;
  return {
    cells: doc.cells.map(cellFrom),
    ...(doc.program !== undefined ? { program: { object: doc.program.object, section: doc.program.section } } : {}),
    machine: doc.machine,
    options: doc.options,
    started: doc.started,
    vxo_version: doc.vxo_version,
  };
}
