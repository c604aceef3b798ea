// A minimal box-drawn table for the terminal. Written here rather than pulled from a package
// because the report needs grouped headers ("ours" over native/offload/ratio) and colour applied
// after padding, so escape codes never count toward a column's width.

export type Tone = 'good' | 'bad' | 'dim' | 'bold';
export type BoxCell = string | { text: string; tone: Tone };

export interface BoxColumn {
  title: string;
  align: 'left' | 'right';
  /** Adjacent columns with the same group share a header cell above their titles. */
  group?: string;
}

export interface BoxOptions {
  /** Box-drawing characters (default) or plain ASCII for terminals and logs that mangle them. */
  charset?: 'unicode' | 'ascii';
  color?: boolean;
}

const UNICODE = { h: '─', v: '│', tl: '┌', tm: '┬', tr: '┐', ml: '├', mm: '┼', mr: '┤', bl: '└', bm: '┴', br: '┘' };
const ASCII = { h: '-', v: '|', tl: '+', tm: '+', tr: '+', ml: '+', mm: '+', mr: '+', bl: '+', bm: '+', br: '+' };

const ANSI: Readonly<Record<Tone, string>> = { good: '\x1b[32m', bad: '\x1b[31m', dim: '\x1b[2m', bold: '\x1b[1m' };
const RESET = '\x1b[0m';

/** Width in terminal columns; code points, not UTF-16 units, so "–" and "×" count as one. */
export function width(s: string): number {
  return [...s].length;
}

function text(c: BoxCell): string {
  return typeof c === 'string' ? c : c.text;
}

export function paint(s: string, tone: Tone | undefined, color: boolean): string {
  return color && tone !== undefined ? `${ANSI[tone]}${s}${RESET}` : s;
}

function pad(s: string, w: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'left' ? s + fill : fill + s;
}

interface Span {
  label: string;
  from: number;
  to: number; // inclusive
}

function groupSpans(columns: readonly BoxColumn[]): Span[] {
  const spans: Span[] = [];
  columns.forEach((c, i) => {
    const last = spans.at(-1);
    if (c.group !== undefined && last !== undefined && last.label === c.group && last.to === i - 1) last.to = i;
    else spans.push({ label: c.group ?? '', from: i, to: i });
  });
  return spans;
}

export function renderBox(columns: readonly BoxColumn[], rows: readonly BoxCell[][], opts: BoxOptions = {}): string {
  const ch = opts.charset === 'ascii' ? ASCII : UNICODE;
  const color = opts.color ?? false;
  const spans = columns.some((c) => c.group !== undefined) ? groupSpans(columns) : [];
  const w = columns.map((c, i) => Math.max(width(c.title), ...rows.map((r) => width(text(r[i] ?? '')))));
  // A group label wider than its columns widens them evenly, so sibling columns stay alike.
  for (const s of spans) {
    const inner = w.slice(s.from, s.to + 1).reduce((a, b) => a + b, 0) + 3 * (s.to - s.from);
    let need = width(s.label) - inner;
    for (let i = s.from; need > 0; i = i === s.to ? s.from : i + 1) {
      w[i] = (w[i] ?? 0) + 1;
      need--;
    }
  }
  const spanWidth = (s: Span): number => w.slice(s.from, s.to + 1).reduce((a, b) => a + b, 0) + 3 * (s.to - s.from);
  const isGroupEdge = (i: number): boolean => spans.some((s) => s.to === i);

  const rule = (l: string, m: (i: number) => string, r: string): string =>
    l + w.map((x, i) => ch.h.repeat(x + 2) + (i < w.length - 1 ? m(i) : '')).join('') + r;

  const out: string[] = [];
  if (spans.length > 0) {
    out.push(rule(ch.tl, (i) => (isGroupEdge(i) ? ch.tm : ch.h), ch.tr));
    out.push(ch.v + spans.map((s) => ` ${paint(pad(s.label, spanWidth(s), 'left'), 'bold', color)} `).join(ch.v) + ch.v);
    out.push(rule(ch.ml, (i) => (isGroupEdge(i) ? ch.mm : ch.tm), ch.mr));
  } else {
    out.push(rule(ch.tl, () => ch.tm, ch.tr));
  }
  out.push(ch.v + columns.map((c, i) => ` ${paint(pad(c.title, w[i]!, c.align), 'bold', color)} `).join(ch.v) + ch.v);
  out.push(rule(ch.ml, () => ch.mm, ch.mr));
  for (const r of rows) {
    const cells = columns.map((c, i) => {
      const cell = r[i] ?? '';
      const tone = typeof cell === 'string' ? undefined : cell.tone;
      return ` ${paint(pad(text(cell), w[i]!, c.align), tone, color)} `;
    });
    out.push(ch.v + cells.join(ch.v) + ch.v);
  }
  out.push(rule(ch.bl, () => ch.bm, ch.br));
  return out.join('\n');
}
