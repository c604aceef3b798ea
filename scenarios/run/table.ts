// `vxo table`: the RFC's eight cells, each run `repeat` times (median and spread), in the RFC's
// order, with a progress bar on a terminal. Runs are sequential: two runs at once would share
// the same two cores and measure each other.
import { packageVersion } from '../package-root.ts';
import type { EngineName } from '../../bpf-vm/index.ts';
import {
  buildCell, CASES, createProgress, machineInfo, MODES, PROGS,
  type Cell, type CellKey, type RunSample, type TableReport,
} from '../report/index.ts';
import { RunError } from './programs.ts';
import { runCase } from './run-case.ts';

export interface TableRunOptions {
  duration: number;
  warmup: number;
  repeat: number;
  vhostPollUs: number;
  engine: EngineName;
  ratePps: number | undefined;
  lineRate: string | null;
  pktSize: number;
  flows: number;
  /** "1/xdp1/offload,2/xdp2/native": only these cells. */
  cells?: string;
  /** Where progress goes (stderr by default; quiet when it is not a terminal). */
  progress?: boolean;
}

export function selectCells(filter: string | undefined): CellKey[] {
  const all: CellKey[] = [];
  for (const c of CASES) for (const p of PROGS) for (const m of MODES) all.push({ case: c, prog: p, mode: m });
  if (filter === undefined) return all;
  const want = filter.split(',').map((s) => s.trim()).filter(Boolean);
  const picked = all.filter((k) => want.includes(`${k.case}/${k.prog}/${k.mode}`));
  const unknown = want.filter((w) => !all.some((k) => `${k.case}/${k.prog}/${k.mode}` === w));
  if (unknown.length > 0) throw new RunError('EINVAL', `--cells: unknown cell(s) ${unknown.join(', ')} (e.g. 1/xdp1/offload)`);
  return picked;
}

export async function runTable(o: TableRunOptions): Promise<TableReport> {
  const keys = selectCells(o.cells);
  const started = new Date().toISOString();
  const progress = createProgress({ cells: keys.length, repeat: o.repeat });
  const cells: Cell[] = [];
  try {
    for (const [i, k] of keys.entries()) {
      const runs: RunSample[] = [];
      for (let r = 0; r < o.repeat; r++) {
        progress.start(i, r, `case ${k.case} ${k.prog} ${k.mode}`);
        const res = await runCase({
          case: k.case, prog: k.prog, mode: k.mode, duration: o.duration, warmup: o.warmup,
          vhostPollUs: o.vhostPollUs, engine: o.engine, ratePps: o.ratePps, pktSize: o.pktSize, flows: o.flows,
        });
        runs.push({ mpps: res.mpps, packets: res.packets, seconds: res.seconds, balanced: res.accounting.balanced, explain: res.explain, counters: res.window });
        progress.done(res.mpps);
      }
      cells.push(buildCell(k, runs));
    }
  } finally {
    progress.stop();
  }
  return {
    cells,
    machine: machineInfo(),
    options: {
      duration: o.duration, warmup: o.warmup, repeat: o.repeat, lineRate: o.lineRate, vhostPollUs: o.vhostPollUs, engine: o.engine,
    },
    started,
    vxo_version: packageVersion(),
  };
}

