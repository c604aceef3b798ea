// How the guest's BPF layer reaches the device: one synchronous control command at a time, as
// virtnet_send_command does (it spins until the device has answered).
import { readEbpfReply, type EbpfCtrlRequest } from '../../virtio/index.ts';
import { GuestBpfError, guestErrnoCode } from './errors.ts';

export interface CtrlReply {
  ack: number;
  /** The bytes the device wrote after the ack. */
  result: Uint8Array;
}

export interface CtrlChannel {
  /** Sends {class, command, data} with `resultLen` bytes of result room; returns the answer. Throws GuestBpfError EIO when the device does not answer. */
  send(cls: number, cmd: number, data: Uint8Array, resultLen: number): CtrlReply;
}

/**
 * Sends a class-EBPF command and returns the result's data; VIRTIO_NET_ERR becomes a
 * GuestBpfError carrying the device's errno (and its verifier log for SET_OFFLOAD).
 */
export function sendEbpfCommand(ctrl: CtrlChannel, req: EbpfCtrlRequest, what: string): Uint8Array {
  const r = readEbpfReply(ctrl.send(req.cls, req.cmd, req.data, req.resultLen));
  if (r.malformed) throw new GuestBpfError('EIO', `${what}: the device's result is malformed: ${r.malformed.message}`, { source: 'device', cause: r.malformed });
  if (r.ok) return r.data;
  if (r.errno === 0) throw new GuestBpfError('EIO', `${what}: the device answered VIRTIO_NET_ERR without an errno`, { source: 'device' });
  const code = guestErrnoCode(r.errno);
  const log = r.data.length > 0 ? new TextDecoder().decode(r.data) : undefined;
  const detail = log ? `: ${lastLines(log)}${r.truncated ? ' (log truncated)' : ''}` : '';
  throw new GuestBpfError(code, `${what}: the device refused it (${code})${detail}`, { source: 'device', log });
}

/** The verifier's verdict is its last lines before the "processed N insns" summary. */
function lastLines(log: string): string {
  const lines = log.trimEnd().split('\n').filter((l) => !l.startsWith('processed '));
  return lines.slice(-2).join(' / ');
}
