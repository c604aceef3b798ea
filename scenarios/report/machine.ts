// The machine a table was measured on. Mpps only mean something next to the CPU and core count
// (the goal is stated for 2-core machines), so every report carries this.

import os from 'node:os';
import type { Machine } from './types.ts';

export function machineInfo(): Machine {
  const cpus = os.cpus();
  // availableParallelism honours cgroup/affinity limits where cpus() lists every host CPU.
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length;
  return {
    cpu: cpus[0]?.model.trim().replace(/\s+/g, ' ') || 'unknown CPU',
    cores: Math.max(1, cores),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    kernel: os.release(),
  };
}
