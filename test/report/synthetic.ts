// SYNTHETIC TEST DATA. Nothing here was measured: these are made-up runs shaped like the RFC's
// table so the report layer (a pure function of its input) can be tested without running the
// emulator. Never cite these numbers as results.

import { buildCell } from '../../scenarios/report/median.ts';
import type { CaseId, Cell, Explain, Mode, ProgId, RunSample, TableReport } from '../../scenarios/report/types.ts';

/** Made-up medians, in the RFC's shape (Case 1 offload >> native, Case 2 about equal). */
export const SYNTHETIC_MPPS: Readonly<Record<`${CaseId}/${ProgId}/${Mode}`, number>> = {
  '1/xdp1/native': 2.61,
  '1/xdp1/offload': 13.4,
  '1/xdp2/native': 1.58,
  '1/xdp2/offload': 7.9,
  '2/xdp1/native': 1.12,
  '2/xdp1/offload': 1.05,
  '2/xdp2/native': 1.14,
  '2/xdp2/offload': 1.02,
};

export function syntheticExplain(c: CaseId, mode: Mode, mpps: number): Explain {
  // Case 1 frames arrive in batches of ~60; Case 2 one per vhost wake-up.
  const batch = c === 1 ? 61.3 : 1.0;
  const wakeups = (mpps * 1e6) / batch;
  return {
    vhost_wakeups_per_sec: wakeups,
    pkts_per_vhost_wakeup: batch,
    tap_batch_avg: batch,
    copies_per_packet: mode === 'offload' ? 0 : 1,
    guest_interrupts_per_sec: mode === 'offload' ? 0 : wakeups / 4,
    ring_full_drops_per_sec: c === 1 ? 1.2e5 : NaN,
    // Where the CPU went: native shares a core between vhost and the guest, which then wait for it.
    cpu_host: 0.98,
    cpu_vhost: mode === 'native' ? 0.55 : 0.97,
    cpu_guest: mode === 'native' ? 0.41 : 0,
    cpu_all: mode === 'native' ? 1.96 : 1.97,
    runq_wait_host: 0.02,
    runq_wait_vhost: mode === 'native' ? 0.37 : 0.01,
    runq_wait_guest: mode === 'native' ? 0.12 : 0,
    // Case 2's runs shared the machine with another process (made up, like the rest).
    cpu_other: c === 2 ? 0.31 : 0.01,
    cpu_steal: 0,
    cpu_probe_ms: 25,
    probe_us_host: 170,
    probe_us_vhost: mode === 'native' ? 180 : 172,
    probe_us_guest: 175,
  };
}

/** Runs at median x (1 + d) for each relative deviation d; the median run is the d = 0 one. */
export function syntheticRuns(c: CaseId, prog: ProgId, mode: Mode, deviations: readonly number[] = [-0.02, 0, 0.015]): RunSample[] {
  const m = SYNTHETIC_MPPS[`${c}/${prog}/${mode}`];
  return deviations.map((d) => {
    const mpps = m * (1 + d);
    const seconds = 2;
    return {
      mpps,
      packets: Math.round(mpps * 1e6 * seconds),
      seconds,
      balanced: true,
      explain: syntheticExplain(c, mode, mpps),
      counters: { tap_tx_packets: Math.round(mpps * 1e6 * seconds), vhost_wakeups: Math.round((mpps * 1e6 * seconds) / 60) },
    };
  });
}

export function syntheticCells(): Cell[] {
  const cells: Cell[] = [];
  for (const c of [1, 2] as const) {
    for (const prog of ['xdp1', 'xdp2'] as const) {
      for (const mode of ['native', 'offload'] as const) cells.push(buildCell({ case: c, prog, mode }, syntheticRuns(c, prog, mode)));
    }
  }
  return cells;
}

/** Made-up medians for the user's own program in place of xdp1/xdp2 (`vxo table --prog`). */
export const SYNTHETIC_USER_MPPS: Readonly<Record<`${CaseId}/${Mode}`, number>> = {
  '1/native': 2.2,
  '1/offload': 9.9,
  '2/native': 1.0,
  '2/offload': 0.97,
};

export function syntheticUserCells(): Cell[] {
  const cells: Cell[] = [];
  for (const c of [1, 2] as const) {
    for (const mode of ['native', 'offload'] as const) {
      const m = SYNTHETIC_USER_MPPS[`${c}/${mode}`];
      const runs = syntheticRuns(c, 'xdp1', mode).map((r, i) => ({ ...r, mpps: m * [0.98, 1, 1.015][i]!, explain: syntheticExplain(c, mode, m) }));
      cells.push(buildCell({ case: c, prog: 'user', mode }, runs));
    }
  }
  return cells;
}

export function syntheticReport(cells: Cell[] = syntheticCells()): TableReport {
  return {
    cells,
    machine: { cpu: 'Synthetic CPU @ 2.0GHz (test data)', cores: 2, node: 'v20.0.0', platform: 'linux x64', kernel: '6.1.0-test' },
    options: { duration: 2, warmup: 1, repeat: 3, lineRate: null, vhostPollUs: 0, engine: 'jit' },
    started: '2025-01-01T00:00:00.000Z',
    vxo_version: '0.1.0',
  };
}
