// The machine's speed just before a run, timed on the main thread while no worker exists: the
// workers' probe loop (virtio/cpu-probe.ts), longer. On a shared virtual machine it has taken
// 24 ms at one moment and 64 ms minutes later.
import { cpuProbeLoop } from '../../virtio/index.ts';

/** Iterations: some 25 ms on an idle current core. */
const MAIN_PROBE_ITERATIONS = 30_000_000;

export function cpuProbeMs(): number {
  return cpuProbeLoop(new Float64Array(4096), MAIN_PROBE_ITERATIONS);
}
