// The terminal report: our table beside the RFC's, then what explains each cell, then the verdict
// on the shape. The reader's question is "does offload win where the RFC says it does, and why",
// so ratios sit next to the Mpps and the per-cell counters follow directly.

import { renderBox } from './box.ts';
import type { BoxCell, BoxColumn, Tone } from './box.ts';
import { paint } from './box.ts';
import { explainKeys, explainLabel, formatExplain } from './explain-labels.ts';
import { coreWaits, isThreadKey, sharedMachine, sharedMachineBanner, threadGroup, threadKeys } from './cpu.ts';
import { formatMpps, formatRange, formatRatio, formatSig } from './fmt.ts';
import { CASE_LABEL, PROG_LABEL, userProgramName, userProgramNote } from './paper.ts';
import { isUserTable, orderedCells, tableRows } from './rows.ts';
import type { Row } from './rows.ts';
import { rfcGoalLine, shapeVerdict, verdictLine, FAR_ABOVE_RATIO, ABOUT_EQUAL_BAND } from './verdict.ts';
import type { Cell, TableReport, UserProgram } from './types.ts';

export interface TextTableOptions {
  /** ANSI colour; pass `shouldColor(process.stdout)` — off by default so logs stay plain. */
  color?: boolean;
  charset?: 'unicode' | 'ascii';
}

/** Colour only on a terminal, and never when the user set NO_COLOR (https://no-color.org). */
export function shouldColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
}

function ratioTone(c: Row['case'], r: number): Tone | undefined {
  if (!Number.isFinite(r)) return undefined;
  const ok = c === 1 ? r >= FAR_ABOVE_RATIO : r >= 1 / ABOUT_EQUAL_BAND && r <= ABOUT_EQUAL_BAND;
  return ok ? 'good' : 'bad';
}

function mppsCell(ours: number, paper: number): BoxCell {
  if (!Number.isFinite(ours)) return { text: formatMpps(ours), tone: 'dim' };
  // No RFC figure (the user's program): nothing to be above or below.
  if (!Number.isFinite(paper)) return formatMpps(ours);
  return { text: formatMpps(ours), tone: ours >= paper ? 'good' : 'bad' };
}

/** "xdp1 (DROP)", or the user's object for the user's program. */
export function progLabel(prog: Row['prog'], program: UserProgram | undefined): string {
  return prog === 'user' ? userProgramName(program) : `${prog} (${PROG_LABEL[prog]})`;
}

const MAIN_COLUMNS: BoxColumn[] = [
  { title: 'case', align: 'left' },
  { title: 'program', align: 'left' },
  { title: 'native', align: 'right', group: 'ours (Mpps)' },
  { title: 'offload', align: 'right', group: 'ours (Mpps)' },
  { title: 'off/nat', align: 'right', group: 'ours (Mpps)' },
  { title: 'native', align: 'right', group: 'RFC (Mpps)' },
  { title: 'offload', align: 'right', group: 'RFC (Mpps)' },
  { title: 'off/nat', align: 'right', group: 'RFC (Mpps)' },
  { title: 'native', align: 'right', group: 'spread of runs (min-max)' },
  { title: 'offload', align: 'right', group: 'spread of runs (min-max)' },
];

function mainRow(r: Row, program: UserProgram | undefined): BoxCell[] {
  return [
    `${r.case} ${CASE_LABEL[r.case]}`,
    progLabel(r.prog, program),
    mppsCell(r.ours.native, r.paper.native),
    mppsCell(r.ours.offload, r.paper.offload),
    r.prog === 'user' ? formatRatio(r.ours.ratio) : { text: formatRatio(r.ours.ratio), tone: ratioTone(r.case, r.ours.ratio) ?? 'dim' },
    formatMpps(r.paper.native),
    formatMpps(r.paper.offload),
    formatRatio(r.paper.ratio),
    { text: r.native ? formatRange(r.native.min, r.native.max) : 'n/a', tone: 'dim' },
    { text: r.offload ? formatRange(r.offload.min, r.offload.max) : 'n/a', tone: 'dim' },
  ];
}

function balancedText(c: Cell): BoxCell {
  const ok = c.runs.filter((r) => r.balanced).length;
  return ok === c.runs.length ? { text: 'yes', tone: 'good' } : { text: `NO ${c.runs.length - ok}/${c.runs.length}`, tone: 'bad' };
}

function explainTable(cells: readonly Cell[], opts: TextTableOptions): string {
  const keys = explainKeys(cells.map((c) => c.explain)).filter((k) => !isThreadKey(k));
  const columns: BoxColumn[] = [
    { title: 'cell', align: 'left' },
    { title: 'Mpps', align: 'right' },
    ...keys.map((k): BoxColumn => ({ title: explainLabel(k).short, align: 'right' })),
    { title: 'balanced', align: 'left' },
  ];
  const ordered = orderedCells(cells);
  const rows = ordered.map((c): BoxCell[] => [
    `${c.case} ${c.prog} ${c.mode}`,
    formatMpps(c.mpps),
    ...keys.map((k) => formatExplain(k, c.explain[k] ?? NaN)),
    balancedText(c),
  ]);
  return renderBox(columns, rows, opts);
}

/** Where the CPU went in each cell's median run: busy share of one core per thread, and the share of the window each waited for a core. */
function threadTable(cells: readonly Cell[], opts: TextTableOptions): string | undefined {
  const keys = threadKeys(cells.map((c) => c.explain));
  if (keys.length === 0) return undefined;
  const columns: BoxColumn[] = [
    { title: 'cell', align: 'left' },
    { title: 'Mpps', align: 'right' },
    ...keys.map((k): BoxColumn => ({
      title: explainLabel(k).short, align: 'right', group: threadGroup(k),
    })),
  ];
  const ordered = orderedCells(cells);
  const rows = ordered.map((c): BoxCell[] => [`${c.case} ${c.prog} ${c.mode}`, formatMpps(c.mpps), ...keys.map((k) => formatExplain(k, c.explain[k] ?? NaN))]);
  return renderBox(columns, rows, opts);
}

/**
 * The RFC's explanation ("Why Case 2 is slow"), with our numbers in it. The interpretation is
 * printed only when the counters actually show it (Case 1 batched, Case 2 about one packet per
 * wake-up), so e.g. a busy-polling run is not told a story its counters contradict. A wake-up in
 * the kernel's sense is vhost's work being queued (pkts_per_tap_wakeup); whether the thread was
 * asleep at the time is the tap notifies/s column.
 */
function whyLines(cells: readonly Cell[]): string[] {
  const per = (c: 1 | 2): { prog: string; v: number }[] =>
    tableRows(cells).flatMap((r) =>
      r.case === c && r.offload !== undefined ? [{ prog: r.prog, v: r.offload.explain.pkts_per_tap_wakeup ?? r.offload.explain.pkts_per_vhost_wakeup }] : [],
    );
  const one = per(1);
  const two = per(2);
  if (one.length === 0 || two.length === 0) return [];
  const list = (xs: { prog: string; v: number }[]): string => xs.map((x) => `${formatSig(x.v)} (${x.prog})`).join(', ');
  const lines = [`Why: packets per vhost wake-up with offload: Case 1 ${list(one)}; Case 2 ${list(two)}.`];
  const min1 = Math.min(...one.map((x) => x.v));
  const max2 = Math.max(...two.map((x) => x.v));
  if (max2 <= 2 && min1 >= 4 * max2) {
    lines.push(
      '     Redirected frames arrive in batches; bridged packets one per wake-up, so Case 2 pays a',
      '     vhost wake-up per packet in both modes.',
    );
  }
  return lines;
}

function headerLines(report: TableReport, sep: string): string[] {
  const o = report.options;
  const m = report.machine;
  const run = [
    `median of ${o.repeat} run${o.repeat === 1 ? '' : 's'}`,
    `${o.duration} s window after ${o.warmup} s warm-up`,
    `line rate ${o.lineRate ?? 'uncapped'}`,
    `vhost poll ${o.vhostPollUs > 0 ? `${o.vhostPollUs} us` : 'off'}`,
    `engine ${o.engine}`,
    ...(o.queues !== undefined ? [`${o.queues} queue${o.queues === 1 ? '' : 's'}`] : []),
  ];
  const what = report.program === undefined && !isUserTable(report.cells)
    ? 'ours vs the RFC'
    : `your program (${userProgramName(report.program)}), no RFC figure to compare with`;
  return [
    `vxo ${report.vxo_version}: virtio-net XDP offload, ${what} (single flow, 64-byte frames)`,
    run.join(sep),
    [m.cpu, `${m.cores} cores`, `Node ${m.node}`, m.platform, `kernel ${m.kernel}`, `started ${report.started}`].join(sep),
  ];
}

function threadSection(report: TableReport, opts: TextTableOptions, color: boolean): string[] {
  const t = threadTable(report.cells, opts);
  if (t === undefined) return [];
  const ordered = orderedCells(report.cells);
  const waits = coreWaits(ordered);
  const shared = sharedMachine(ordered);
  return [
    '', paint(`Where the CPU went (median run; the machine has ${report.machine.cores} cores): share of one core, wait for one, and each thread's CPU probe`, 'bold', color), t,
    ...(waits.length > 0 ? [`Waited for a core: ${waits.join('; ')}.`] : []),
    ...(shared.length > 0 ? [`Shared the machine (these figures measure its load too): ${shared.join('; ')}.`] : []),
  ];
}

/** The closing lines: the verdict on the RFC's shape, or for the user's program its ratios alone. */
function verdictLines(report: TableReport, color: boolean): string[] {
  if (report.program !== undefined || isUserTable(report.cells)) {
    const ratios = tableRows(report.cells).filter((r) => r.prog === 'user').map((r) => `Case ${r.case} ${formatRatio(r.ours.ratio)}`);
    return [`Offload/native with your program: ${ratios.join(', ')}. No verdict: the RFC has no figure for this program.`];
  }
  const v = shapeVerdict(report.cells);
  const tone: Tone = v.status === 'holds' ? 'good' : v.status === 'broken' ? 'bad' : 'dim';
  return [paint(verdictLine(v), tone, color), rfcGoalLine(v)];
}

export function renderTextTable(report: TableReport, opts: TextTableOptions = {}): string {
  const color = opts.color ?? false;
  const user = report.program !== undefined || isUserTable(report.cells);
  const banner = sharedMachineBanner(orderedCells(report.cells));
  const header = headerLines(report, opts.charset === 'ascii' ? ' | ' : ' · ').map((l, i) => (i === 0 ? paint(l, 'bold', color) : l));
  const lines = [
    // The shared machine first of all: every figure below is read in its light.
    ...(banner !== undefined ? [paint(banner, 'bad', color)] : []),
    ...header,
    '',
    renderBox(MAIN_COLUMNS, tableRows(report.cells).map((r) => mainRow(r, report.program)), opts),
    ...(user ? [userProgramNote(report.program)] : []),
    '',
    paint('What explains each cell (counters of the median run)', 'bold', color),
    explainTable(report.cells, opts),
    ...whyLines(report.cells),
    ...threadSection(report, opts, color),
    '',
    ...verdictLines(report, color),
  ];
  return lines.join('\n') + '\n';
}
