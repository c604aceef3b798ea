// The kernel's JIT as the reference: the same object and frame through BPF_PROG_TEST_RUN.
import { kernelAvailable, kernelTestRun } from '../test/support/kernel.ts';
import { udp64 } from '../test/support/packets.ts';
import { XDP_DIR } from './vm.ts';

export type KernelFigure = { ok: true; nsPerPacket: number; retval: number } | { ok: false; reason: string };

export function kernelFigure(prog: string, repeat = 10_000_000): KernelFigure {
  const avail = kernelAvailable();
  if (!avail.ok) return avail;
  try {
    const r = kernelTestRun(`${XDP_DIR}${prog}.o`, { dataIn: udp64(), repeat });
    return { ok: true, nsPerPacket: r.durationNs, retval: r.retval };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}
