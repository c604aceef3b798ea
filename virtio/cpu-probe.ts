// How fast a thread's CPU runs at a given moment: a fixed loop of loads, multiplies and stores on
// 32 KB of the thread's own memory, timed. On a shared virtual machine another tenant on the same
// physical core (the other hyper-thread) can slow a virtual CPU to half speed with no steal time
// reported and nothing visible inside the VM; this loop, which keeps the core's load and store
// units busy as the data path does, shows it. (A chain of dependent arithmetic, which needs little
// of the core, does not.) The scenario runner times it before each run on the main thread, and
// each worker times it now and then on its own thread during the run.

/** Between two probes on a worker's thread. */
export const CPU_PROBE_INTERVAL_MS = 100;
/** Iterations of a worker's probe: about 100 us on a current core, 0.1% of the thread. */
export const CPU_PROBE_ITERATIONS = 100_000;

/** Runs `iterations` of the probe loop on `a` (4096 doubles) and returns the milliseconds it took. */
export function cpuProbeLoop(a: Float64Array, iterations: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) a[i & 4095] = a[(i * 7) & 4095]! * 1.0001 + i;
  return performance.now() - t0;
}

export class CpuProbe {
  /** Microseconds the probes took, and how many ran. */
  us = 0;
  runs = 0;
  private last = -Infinity;
  private readonly a = new Float64Array(4096);

  /** Runs the probe if CPU_PROBE_INTERVAL_MS have passed since the last one. */
  maybeRun(now: number = performance.now()): void {
    if (now - this.last < CPU_PROBE_INTERVAL_MS) return;
    this.us += cpuProbeLoop(this.a, CPU_PROBE_ITERATIONS) * 1000;
    this.runs++;
    this.last = performance.now();
  }
}
