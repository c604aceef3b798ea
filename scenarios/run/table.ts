// `vxo table`: the RFC's eight cells, each run `repeat` times (median and spread), in the RFC's
// order, with progress on stderr (a bar on a terminal; for the command, plain lines elsewhere). Runs are
// sequential: two runs at once would share the same two cores and measure each other. With the
// user's own program (`--prog OBJ`), it takes xdp1's and xdp2's place: four cells, Case 1 and
// Case 2, native and offload, with no RFC figure beside them.
import { packageVersion } from '../package-root.ts';
import type { EngineName } from '../../bpf-vm/index.ts';
import {
  buildCell, CASES, createProgress, machineInfo, MODES, PROGS, USER_PROG,
  type Cell, type CellKey, type CellProg, type RunSample, type TableReport, type UserProgram,
} from '../report/index.ts';
import { checkLimit, checkTraffic } from './limits.ts';
import { resolveProgram, RunError } from './programs.ts';
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
  /** "1/xdp1/offload,2/xdp2/native": only these cells ("1/user/native" with `prog`). */
  cells?: string;
  /** The user's object, run in place of xdp1 and xdp2. */
  prog?: string;
  /** The program in `prog`'s object, by function or section name (default: its first). */
  section?: string;
  /**
   * Progress on stderr: true, a bar on a terminal and plain lines elsewhere (vxo table); undefined,
   * the bar on a terminal only (the library's default); false, none.
   */
  progress?: boolean;
}

export function selectCells(filter: string | undefined, progs: readonly CellProg[] = PROGS): CellKey[] {
  const all: CellKey[] = [];
  for (const c of CASES) for (const p of progs) for (const m of MODES) all.push({ case: c, prog: p, mode: m });
  if (filter === undefined) return all;
  const want = filter.split(',').map((s) => s.trim()).filter(Boolean);
  const example = `${all[1]!.case}/${all[1]!.prog}/${all[1]!.mode}`;
  if (want.length === 0) throw new RunError('EINVAL', `--cells ${JSON.stringify(filter)}: names no cell (e.g. ${example})`);
  const picked = all.filter((k) => want.includes(`${k.case}/${k.prog}/${k.mode}`));
  const unknown = want.filter((w) => !all.some((k) => `${k.case}/${k.prog}/${k.mode}` === w));
  if (unknown.length > 0) throw new RunError('EINVAL', `--cells: unknown cell(s) ${unknown.join(', ')} (e.g. ${example})`);
  return picked;
}

/** Everything about the table that can be wrong, before its first run starts. */
export function checkTable(o: TableRunOptions): { keys: CellKey[]; program: UserProgram | undefined } {
  checkLimit('repeat', o.repeat);
  checkTraffic(o);
  if (o.section !== undefined && o.prog === undefined) throw new RunError('EINVAL', '--section: only with --prog OBJ (xdp1 and xdp2 have one program each)');
  let program: UserProgram | undefined;
  if (o.prog !== undefined) {
    if (o.prog === 'xdp1' || o.prog === 'xdp2') throw new RunError('EINVAL', `--prog ${o.prog}: the table runs xdp1 and xdp2 already; --prog takes your own object`);
    resolveProgram(o.prog, o.section);
    program = { object: o.prog, section: o.section ?? null };
  }
  return { keys: selectCells(o.cells, program ? [USER_PROG] : PROGS), program };
}

export async function runTable(o: TableRunOptions): Promise<TableReport> {
  const { keys, program } = checkTable(o);
  const started = new Date().toISOString();
  const progress = createProgress({ cells: keys.length, repeat: o.repeat, enabled: o.progress !== false, plain: o.progress === true });
  const cells: Cell[] = [];
  try {
    for (const [i, k] of keys.entries()) {
      const runs: RunSample[] = [];
      for (let r = 0; r < o.repeat; r++) {
        progress.start(i, r, `${k.case}/${k.prog}/${k.mode}`);
        const res = await runCase({
          case: k.case, prog: k.prog === USER_PROG ? o.prog! : k.prog, ...(o.section !== undefined ? { section: o.section } : {}),
          mode: k.mode, duration: o.duration, warmup: o.warmup,
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
    ...(program !== undefined ? { program } : {}),
    machine: machineInfo(),
    options: {
      duration: o.duration, warmup: o.warmup, repeat: o.repeat, lineRate: o.lineRate, vhostPollUs: o.vhostPollUs, engine: o.engine,
    },
    started,
    vxo_version: packageVersion(),
  };
}
