// The RFC's published benchmark: the numbers our table is compared against.
// Source: "virtio_net XDP offload" RFC cover letter (net-next, 26 Nov 2019), as recorded in
// shared/design/offload-rfc.md, "The benchmark". Single flow, 64-byte frames, pktgen -> 10G NIC.

import { ReportError } from './errors.ts';
import type { CaseId, CellProg, Mode, ProgId, UserProgram } from './types.ts';

export const PAPER_SOURCE =
  'virtio_net XDP offload RFC (net-next, 26 Nov 2019), cover-letter benchmark: single flow, 64-byte frames';

export const PAPER_TABLE = [
  { case: 1, prog: 'xdp1', native: 2.46, offload: 12.9 },
  { case: 1, prog: 'xdp2', native: 1.5, offload: 7.26 },
  { case: 2, prog: 'xdp1', native: 1.03, offload: 1.01 },
  { case: 2, prog: 'xdp2', native: 1.1, offload: 0.99 },
] as const satisfies readonly { case: CaseId; prog: ProgId; native: number; offload: number }[];

export type PaperRow = (typeof PAPER_TABLE)[number];

/** How the RFC describes each case and program; shared by the terminal and HTML reports. */
export const CASE_LABEL: Readonly<Record<CaseId, string>> = {
  1: 'redirected into tap',
  2: 'through the bridge',
};
export const PROG_LABEL: Readonly<Record<CellProg, string>> = {
  xdp1: 'DROP',
  xdp2: 'TX',
  user: 'your program',
};

/** "my.o" or "my.o, section xdp_drop": the user's program as reports name it. */
export function userProgramName(p: UserProgram | undefined): string {
  if (p === undefined) return 'your program';
  return p.section === null ? p.object : `${p.object}, section ${p.section}`;
}

/** The sentence every report of the user's program carries instead of the RFC comparison. */
export function userProgramNote(p: UserProgram | undefined): string {
  return `These cells ran your program (${userProgramName(p)}) in place of xdp1 and xdp2: the RFC has no figure for it, so there is no RFC column to compare with and no verdict on the RFC's shape.`;
}

export function paperRow(c: CaseId, prog: ProgId): PaperRow {
  const row = PAPER_TABLE.find((r) => r.case === c && r.prog === prog);
  // Unreachable while CaseId/ProgId match the table; the throw keeps the return type honest.
  if (row === undefined) throw new ReportError('EINVAL', `no RFC row for case ${c} ${prog}`);
  return row;
}

export function paperMpps(c: CaseId, prog: ProgId, mode: Mode): number {
  return paperRow(c, prog)[mode];
}

/** The RFC's figure for any cell: NaN for the user's program. */
export function paperFigure(c: CaseId, prog: CellProg, mode: Mode): number {
  return prog === 'user' ? NaN : paperMpps(c, prog, mode);
}
