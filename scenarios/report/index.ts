// The report layer: pure functions from a TableReport to the terminal table, JSON and HTML, plus
// the progress bar and machine probe the runner uses while producing one.

export * from './types.ts';
export * from './errors.ts';
export * from './paper.ts';
export * from './median.ts';
export * from './rows.ts';
export * from './verdict.ts';
export * from './fmt.ts';
export * from './explain-labels.ts';
export * from './cpu.ts';
export { renderBox } from './box.ts';
export type { BoxCell, BoxColumn, BoxOptions, Tone } from './box.ts';
export * from './text-table.ts';
export * from './json.ts';
export * from './charts.ts';
export * from './html.ts';
export * from './progress.ts';
export * from './machine.ts';
