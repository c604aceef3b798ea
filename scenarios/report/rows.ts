// The table is read a row at a time (case x program), native beside offload, because the RFC's
// claim is about the ratio within a row. This pairs cells into those rows, in the RFC's order.

import { ReportError } from './errors.ts';
import { PAPER_TABLE } from './paper.ts';
import type { CaseId, Cell, Mode, ProgId } from './types.ts';

export interface CellKey {
  case: CaseId;
  prog: ProgId;
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
  prog: ProgId;
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

/**
 * All four rows, always, in the RFC's order; a cell that was not run shows as NaN rather than
 * vanishing, so a partial table still lines up with the paper's.
 */
export function tableRows(cells: readonly Cell[]): Row[] {
  const seen = new Set<string>();
  for (const c of cells) {
    const name = cellName(c);
    if (seen.has(name)) throw new ReportError('EINVAL', `cell ${name} appears twice in the report`);
    seen.add(name);
  }
  return PAPER_TABLE.map((p) => {
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

/** The cells in the table's order, native before offload in each row. */
export function orderedCells(cells: readonly Cell[]): Cell[] {
  return tableRows(cells).flatMap((r) => [r.native, r.offload]).filter((c): c is Cell => c !== undefined);
}
