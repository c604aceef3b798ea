// The control virtqueue client (virtnet_send_command): synchronous, as in Linux, one command in
// flight. The command is laid out in one guest buffer ([class, cmd][data][ack][result]), added as
// one chain (through an indirect table when negotiated, as virtqueue_add_sgs does), kicked, and
// the driver waits for the used entry with a strategy the caller chose: in one thread, running the
// device model's handler; in a worker, sleeping on the interrupt doorbell with a timeout.
import {
  buildCtrlCommand, ctrlCommandBytes, type Doorbell, type DriverQueue, type GuestMemory, type PageAllocator,
  PAGE_SIZE, readCtrlReply, VIRTIO_NET_ACK,
} from '../../virtio/index.ts';
import { brokenQueue, VirtnetError } from './errors.ts';
import type { VirtnetStats } from './stats.ts';

/** What the guest BPF layer (and anything else sending control commands) needs of the driver. */
export interface CtrlChannel {
  send(cls: number, cmd: number, data: Uint8Array, resultLen: number): { ack: number; result: Uint8Array };
}

export interface CtrlReply {
  /** VIRTIO_NET_OK, VIRTIO_NET_ERR, or 0xff if the device completed the chain without writing it. */
  ack: number;
  /** The command-specific result bytes the device wrote (at most resultLen). */
  result: Uint8Array;
}

/**
 * Blocks until the device has answered or gives up. `ready` (true once the used entry is there)
 * must be checked after arming whatever the strategy sleeps on; a strategy that cannot wait any
 * longer throws (ETIMEDOUT). Returning without `ready()` holding makes the driver call it again.
 */
export type CtrlWait = (ready: () => boolean) => void;

/** The worker's strategy: sleep on the interrupt doorbell (arm, re-check, wait) for at most `timeoutMs`. */
export function ctrlWaitOnDoorbell(irq: Doorbell, timeoutMs: number): CtrlWait {
  return (ready) => {
    if (!irq.waitUntil(ready, timeoutMs)) {
      throw new VirtnetError('ETIMEDOUT', `the device did not answer a control command within ${timeoutMs} ms`);
    }
  };
}

const CTRL_TOKEN = 1;

export class ControlVq {
  private buf: number;
  private capacity: number;
  /** A command whose answer the driver stopped waiting for (the strategy threw) is still out. */
  private abandoned = false;

  constructor(
    readonly vq: DriverQueue<number>,
    private readonly mem: GuestMemory,
    private readonly pages: PageAllocator,
    private readonly stats: VirtnetStats,
    private readonly notify: () => void,
    private readonly waitCtrl: CtrlWait | undefined,
  ) {
    this.capacity = PAGE_SIZE;
    try {
      this.buf = pages.alloc(this.capacity);
    } catch (e) {
      throw new VirtnetError('ENOMEM', 'no guest memory for the control buffer', { cause: e });
    }
  }

  virtnet_send_command(cls: number, cmd: number, data: Uint8Array, resultLen: number): CtrlReply {
    const wait = this.waitCtrl;
    if (wait === undefined) throw new VirtnetError('EINVAL', 'control command without a waitCtrl strategy');
    if (!Number.isInteger(resultLen) || resultLen < 0) throw new VirtnetError('EINVAL', `control result length ${resultLen}`);
    const vq = this.vq;
    if (vq.broken !== null) throw brokenQueue(vq.broken);
    if (this.abandoned) {
      // The device may still read the old command from our buffer: reuse it only once the late
      // answer is in, and throw that answer away rather than take it for the new command's.
      if (vq.getBuf() === undefined) throw new VirtnetError('EBUSY', 'the device has not answered an earlier control command yet');
      this.abandoned = false;
    }
    this.reserve(ctrlCommandBytes(data.length, resultLen));
    const req = buildCtrlCommand(this.mem, this.buf, this.capacity, cls, cmd, data, resultLen);
    this.stats.ctrl_commands++;
    // One command at a time: the queue is empty here unless a device kept an earlier chain.
    if (vq.add(req.out, req.in, CTRL_TOKEN, true) < 0) {
      throw new VirtnetError('EIO', `control queue full (${vq.outstanding} command(s) never answered)`);
    }
    if (vq.kickPrepare()) {
      this.stats.ctrl_kicks++;
      this.notify();
    }
    let done = false;
    let usedLen = 0;
    const ready = (): boolean => {
      if (!done && vq.getBuf() !== undefined) {
        done = true;
        usedLen = vq.lastLen;
      }
      return done;
    };
    this.abandoned = true;
    while (!ready()) {
      if (vq.broken !== null) throw brokenQueue(vq.broken);
      this.stats.ctrl_waits++;
      wait(ready);
    }
    this.abandoned = false;
    const reply = readCtrlReply(this.mem, req, usedLen);
    if (reply.ack === VIRTIO_NET_ACK.VIRTIO_NET_OK) this.stats.ctrl_ok++;
    else this.stats.ctrl_err++;
    return reply;
  }

  /** Frees the command buffer (virtnet_remove). */
  release(): void {
    if (this.buf < 0) return;
    this.pages.freeRange(this.buf);
    this.buf = -1;
    this.capacity = 0;
  }

  /** Grows the command buffer to fit (program offloads carry up to 4096 instructions, 32 KiB). */
  private reserve(bytes: number): void {
    if (bytes <= this.capacity) return;
    const capacity = Math.ceil(bytes / PAGE_SIZE) * PAGE_SIZE;
    let buf: number;
    try {
      buf = this.pages.alloc(capacity);
    } catch (e) {
      throw new VirtnetError('ENOMEM', `no guest memory for a ${bytes}-byte control command`, { cause: e });
    }
    if (this.buf >= 0) this.pages.freeRange(this.buf);
    this.buf = buf;
    this.capacity = capacity;
  }
}
