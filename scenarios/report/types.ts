// The report layer's data model. The scenario runner produces these; every renderer (terminal,
// JSON, HTML) is a pure function of them, so a saved JSON report can be re-rendered later.

export type CaseId = 1 | 2;
/** The RFC's programs. */
export type ProgId = 'xdp1' | 'xdp2';
/**
 * What a cell ran: one of the RFC's programs, or `user`, the user's own object in their place
 * (`vxo table --prog OBJ`; the report's `program` names it). The RFC has no figure for `user`.
 */
export type CellProg = ProgId | 'user';
export type Mode = 'native' | 'offload';

export const USER_PROG = 'user' satisfies CellProg;

export const CASES: readonly CaseId[] = [1, 2];
export const PROGS: readonly ProgId[] = ['xdp1', 'xdp2'];
export const MODES: readonly Mode[] = ['native', 'offload'];

/**
 * What explains a cell, derived from the run's counters. Values may be NaN when a counter does
 * not apply (e.g. no vhost wake-ups at all); renderers print NaN as "n/a" and JSON carries null.
 */
export interface Explain {
  vhost_wakeups_per_sec: number;
  pkts_per_vhost_wakeup: number;
  /** Frames per tun_recvmsg / tun_xdp_xmit batch. */
  tap_batch_avg: number;
  copies_per_packet: number;
  guest_interrupts_per_sec: number;
  ring_full_drops_per_sec: number;
  [k: string]: number;
}

/** The keys every Explain carries, in the order reports show them. */
export const EXPLAIN_KEYS = [
  'pkts_per_vhost_wakeup',
  'vhost_wakeups_per_sec',
  'tap_batch_avg',
  'copies_per_packet',
  'guest_interrupts_per_sec',
  'ring_full_drops_per_sec',
] as const satisfies readonly (keyof Explain)[];

export interface RunSample {
  mpps: number;
  packets: number;
  seconds: number;
  /** Conservation held: every packet sent is accounted for (passed, dropped, bounced, lost). */
  balanced: boolean;
  explain: Explain;
  counters: Record<string, number>;
}

export interface Cell {
  case: CaseId;
  prog: CellProg;
  mode: Mode;
  /** Median of the runs' Mpps. */
  mpps: number;
  min: number;
  max: number;
  runs: RunSample[];
  /** The RFC's figure for this cell; NaN for the user's program (the RFC has none). */
  paper_mpps: number;
  /** The median run's explanation (a real run's counters, not an average of several). */
  explain: Explain;
}

export interface Machine {
  cpu: string;
  cores: number;
  node: string;
  platform: string;
  kernel: string;
}

export interface TableOptions {
  /** Measured window per run, seconds. */
  duration: number;
  /** Warm-up before the window, seconds. */
  warmup: number;
  repeat: number;
  /** e.g. "10G"; null when pktgen is uncapped. */
  lineRate: string | null;
  vhostPollUs: number;
  engine: string;
  queues?: number;
}

/** The user's program that ran in place of xdp1 and xdp2 (`vxo table --prog OBJ [--section S]`). */
export interface UserProgram {
  /** The object's path as given. */
  object: string;
  /** The program in it, by function or section name; null for the object's first. */
  section: string | null;
}

export interface TableReport {
  cells: Cell[];
  /** Set when the cells ran the user's program (prog 'user') instead of the RFC's. */
  program?: UserProgram;
  machine: Machine;
  options: TableOptions;
  /** ISO 8601 time the table started. */
  started: string;
  vxo_version: string;
}
