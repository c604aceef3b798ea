// --pcap for the stack scenarios (`vxo run flood`, `vxo run netperf`): where the frames are copied
// and what each worker is told. The driver/device points are Case 1/2's (nic: the host NIC's
// receive; tap: vhost's; guest: the virtio_net driver's receive); the stack points are ETH_P_ALL
// packet taps, as tcpdump on the interface: guest-stack on the guest's eth0, host-stack on the
// host's br0, both directions each.
import { FrameCapture, type SharedFrameCapture } from '../../virtio/index.ts';
import { writeCapture } from './capture.ts';
import { checkLimit } from './limits.ts';
import { checkOutputPath } from './output-path.ts';
import { RunError } from './run-error.ts';

export const NET_CAPTURE_POINTS = ['nic', 'tap', 'guest', 'guest-stack', 'host-stack'] as const;
export type NetCapturePoint = (typeof NET_CAPTURE_POINTS)[number];

export interface NetPcapOptions {
  file: string;
  /** Default guest-stack. */
  at?: NetCapturePoint;
  /** The first this many frames (default 1000). */
  count?: number;
}

/** Extra worker data per worker (spread into what run-machines.ts gives each). */
export interface NetCaptureWorkerData {
  host?: { capture?: SharedFrameCapture; stackCapture?: SharedFrameCapture };
  vhost?: { capture?: SharedFrameCapture };
  guest?: { capture?: SharedFrameCapture; stackCapture?: SharedFrameCapture };
}

/** Bad options fail before any worker starts (RunError EINVAL). `hostStack`: the run gives the host a stack. */
export function checkNetPcap(p: NetPcapOptions | undefined, hostStack: boolean): void {
  if (p === undefined) return;
  const at = p.at ?? 'guest-stack';
  if (!(NET_CAPTURE_POINTS as readonly string[]).includes(at)) throw new RunError('EINVAL', `--pcap-at ${String(at)}: ${NET_CAPTURE_POINTS.join(', ')}`);
  if (at === 'host-stack' && !hostStack) throw new RunError('EINVAL', '--pcap-at host-stack: this scenario gives the host no stack');
  checkLimit('pcapCount', p.count);
  checkOutputPath(p.file, '--pcap');
}

export class NetCapture {
  readonly cap: FrameCapture;
  readonly workerData: NetCaptureWorkerData;

  constructor(readonly o: NetPcapOptions) {
    this.cap = FrameCapture.create(o.count ?? 1000);
    const s = this.cap.share();
    const at = o.at ?? 'guest-stack';
    this.workerData = at === 'nic' ? { host: { capture: s } }
      : at === 'tap' ? { vhost: { capture: s } }
      : at === 'guest' ? { guest: { capture: s } }
      : at === 'guest-stack' ? { guest: { stackCapture: s } }
      : { host: { stackCapture: s } };
  }

  /** Frames captured so far. */
  get count(): number {
    return this.cap.frames().length;
  }

  /** Writes what was captured (after the run) as a pcap file; returns the number of frames. */
  write(): number {
    const frames = this.cap.frames();
    writeCapture(this.o.file, frames);
    return frames.length;
  }
}

/** A capture for the run, or none without --pcap. */
export function netCapture(p: NetPcapOptions | undefined): NetCapture | undefined {
  return p === undefined ? undefined : new NetCapture(p);
}
