// The whole machine's CPU time (/proc/stat's "cpu" line), to tell a run's own CPU from everyone
// else's: other processes on the machine, and steal time, when the hypervisor ran something else
// on our virtual CPUs. Either one slows a run without any counter of ours showing why.
import { readFileSync } from 'node:fs';

/** USER_HZ: /proc/stat counts in 1/100 s on every architecture Linux exports it for. */
export const USER_HZ = 100;

export interface CpuTimes {
  /** user + nice + system + irq + softirq (guest time is inside user), in ticks. */
  busy: number;
  steal: number;
}

/** Parses /proc/stat's aggregate "cpu" line; undefined when there is none. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  if (f.length < 8 || !f.every((x) => Number.isSafeInteger(x) && x >= 0)) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  return { busy: user + nice + system + irq + softirq, steal };
}

export function readCpuTimes(): CpuTimes | undefined {
  try {
    return parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Over a window, in cores: `cpu_other`, what the rest of the machine used (busy time less the
 * run's own `cpuAll`, never below zero: the two clocks tick differently), and `cpu_steal`.
 */
export function machineUse(before: CpuTimes | undefined, after: CpuTimes | undefined, seconds: number, cpuAll: number | undefined): Record<string, number> {
  if (before === undefined || after === undefined || !(seconds > 0) || cpuAll === undefined) return {};
  const busy = (after.busy - before.busy) / USER_HZ / seconds;
  return { cpu_other: Math.max(0, busy - cpuAll), cpu_steal: (after.steal - before.steal) / USER_HZ / seconds };
}
