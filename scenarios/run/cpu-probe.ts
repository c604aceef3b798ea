// The machine's speed just before a run: a fixed arithmetic loop timed on the main thread while no
// worker is running. On a shared virtual machine the same loop has taken 180 ms at one moment and
// 300 ms minutes later (other tenants on the same physical cores, no steal time reported), so a
// run's figures are read beside this one: more milliseconds, a slower machine at that time.

/** Iterations of the probe: some 25 ms on an idle current core. */
const PROBE_ITERATIONS = 30_000_000;

/** Runs the probe in the calling thread and returns the milliseconds it took. */
export function cpuProbeMs(): number {
  const a = new Float64Array(4096);
  const t0 = performance.now();
  for (let i = 0; i < PROBE_ITERATIONS; i++) a[i & 4095] = a[(i * 7) & 4095]! * 1.0001 + i;
  const ms = performance.now() - t0;
  // A value that depends on the loop, so the compiler cannot drop it.
  return a[4095]! === -1 ? -ms : ms;
}
