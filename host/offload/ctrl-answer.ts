// The device model's part for one parsed control command of class EBPF: run it with the room the
// driver gave for the result (so an answer that cannot fit is refused before it changes
// anything), then write the result and the ack into guest memory.
import { completeCtrlCommand, type CtrlCommand, type GuestMemory } from '../../virtio/index.ts';
import type { VirtioNetEbpf } from './virtio-net-ebpf.ts';

/** Answers `c` (class VIRTIO_NET_CTRL_EBPF); returns the used length for DeviceQueue.push. */
export function answerEbpfCtrl(mem: GuestMemory, c: CtrlCommand, dev: VirtioNetEbpf): number {
  const out = dev.handle(c.cmd, c.data, c.resultCapacity);
  const used = completeCtrlCommand(mem, c, out.ack, out.result);
  return typeof used === 'number' ? used : 1;
}
