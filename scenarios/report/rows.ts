// The table is read a row at a time (case x program), native beside offload, because the RFC's
// claim is about the ratio within a row. This pairs cells into those rows, in the RFC's order.

import { ReportError } from './errors.ts';
import { PAPER_TABLE } from './paper.ts';
import type { CaseId, Cell, CellProg, Mode } from './types.ts';

export interface CellKey {
  case: CaseId;
  prog: CellProg;
  mode: Mode;
}

export interface Pair {
  native: number;
  offload: number;
  /** offload / native; NaN when either side is missing or native is 0. */
  ratio: number;
}

export interface Row {
  case: CaseId;
  prog: CellProg;
  native: Cell | undefined;
  offload: Cell | undefined;
  ours: Pair;
  paper: Pair;
}

/** "1/xdp1/offload": a cell's short name, for progress output and messages. */
export function cellName(key: CellKey): string {
  return `${key.case}/${key.prog}/${key.mode}`;
}

export function ratio(offload: number, native: number): number {
  return native > 0 && Number.isFinite(native) && Number.isFinite(offload) ? offload / native : NaN;
}

export function findCell(cells: readonly Cell[], key: CellKey): Cell | undefined {
  return cells.find((c) => c.case === key.case && c.prog === key.prog && c.mode === key.mode);
}

/** The rows the user's program fills (`vxo table --prog`): one per case, no RFC figure. */
const USER_ROWS = [
  { case: 1, prog: 'user', native: NaN, offload: NaN },
  { case: 2, prog: 'user', native: NaN, offload: NaN },
] as const satisfies readonly { case: CaseId; prog: CellProg; native: number; offload: number }[];

/**
 * All four rows, always, in the RFC's order; a cell that was not run shows as NaN rather than
 * vanishing, so a partial table still lines up with the paper's. A table of the user's program
 * has its two rows (Case 1, Case 2) instead, without RFC figures.
 */
export function tableRows(cells: readonly Cell[]): Row[] {
  const seen = new Set<string>();
  for (const c of cells) {
    const name = cellName(c);
    if (seen.has(name)) throw new ReportError('EINVAL', `cell ${name} appears twice in the report`);
    seen.add(name);
  }
  const user = cells.some((c) => c.prog === 'user');
  const rfc = !user || cells.some((c) => c.prog !== 'user');
  return [...(rfc ? PAPER_TABLE : []), ...(user ? USER_ROWS : [])].map((p) => {
    const native = findCell(cells, { case: p.case, prog: p.prog, mode: 'native' });
    const offload = findCell(cells, { case: p.case, prog: p.prog, mode: 'offload' });
    const n = native?.mpps ?? NaN;
    const o = offload?.mpps ?? NaN;
    return {
      case: p.case,
      prog: p.prog,
      native,
      offload,
      ours: { native: n, offload: o, ratio: ratio(o, n) },
      paper: { native: p.native, offload: p.offload, ratio: ratio(p.offload, p.native) },
    };
  });
}

/** Whether the report's cells ran the user's program rather than the RFC's. */
export function isUserTable(cells: readonly Cell[]): boolean {
  return cells.length > 0 && cells.every((c) => c.prog === 'user');
}

/** The cells in the table's order, native before offload in each row. */
export function orderedCells(cells: readonly Cell[]): Cell[] {
  return tableRows(cells).flatMap((r) => [r.native, r.offload]).filter((c): c is Cell => c !== undefined);
}
