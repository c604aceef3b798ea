// Building the tap's XDP programs where the tap runs (the vhost worker): the Rx-path program an
// administrator attaches (`ip link set tap0 xdp obj rx_drop.o`), and the offloaded Tx-path
// program QEMU hands over with TUNSETOFFLOADEDXDP.
import { type EngineName, loadObjectFile, XdpProgramRunner } from '../bpf-vm/index.ts';
import { openOffloadedProgram, type OffloadedProgramTransfer } from './offloaded-xdp.ts';

export type { EngineName };

export interface TapXdpObject {
  object: string;
  program?: string;
}

/** The Rx-path program from a clang object (verified, then prepared for `engine`). */
export function tapXdpFromObject(spec: TapXdpObject, engine?: EngineName): XdpProgramRunner {
  const coll = loadObjectFile(spec.object);
  return new XdpProgramRunner(coll.program(spec.program), { engine });
}

/**
 * The offloaded program: QEMU's host verifier accepted it; the tap's copy is verified again here
 * because the verifier's facts (which the JIT uses to drop bounds checks) do not cross threads.
 */
export function tapXdpOffloaded(t: OffloadedProgramTransfer, engine?: EngineName): XdpProgramRunner {
  return new XdpProgramRunner(openOffloadedProgram(t), { engine });
}
