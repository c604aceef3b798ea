// A CtrlChannel over a real control virtqueue: the command laid out in guest memory
// (buildCtrlCommand), added to the driver's ring, the device "kicked" through a pump callback the
// device model provides (in one thread: run the device's control-queue loop), then the used ring
// polled and the reply read back, as virtnet_send_command does.
import {
  buildCtrlCommand, ctrlCommandBytes, readCtrlReply, type DriverQueue, type GuestMemory, type PageAllocator,
} from '../../virtio/index.ts';
import type { CtrlChannel, CtrlReply } from './ctrl-channel.ts';
import { GuestBpfError } from './errors.ts';

export interface CtrlVqChannelOptions {
  mem: GuestMemory;
  /** Where the command buffer comes from (it grows when a command needs more). */
  pages: PageAllocator;
  /** The driver's view of the control queue. */
  queue: DriverQueue<number>;
  /** The doorbell: makes the device process what is available (and push its answers). */
  pump: () => void;
  /** Pump rounds before giving up on an answer (default 8). */
  maxPumps?: number;
}

export class CtrlVqChannel implements CtrlChannel {
  private buf = 0;
  private capacity = 0;
  private token = 0;
  readonly stats = { commands: 0, kicks: 0 };

  constructor(private readonly o: CtrlVqChannelOptions) {}

  send(cls: number, cmd: number, data: Uint8Array, resultLen: number): CtrlReply {
    const { mem, queue } = this.o;
    this.ensure(ctrlCommandBytes(data.length, resultLen));
    const req = buildCtrlCommand(mem, this.buf, this.capacity, cls, cmd, data, resultLen);
    const token = (this.token = (this.token + 1) >>> 0);
    if (queue.add(req.out, req.in, token) < 0) {
      throw new GuestBpfError('EIO', `control queue ${queue.name}: no free descriptors${queue.broken ? ` (broken: ${queue.broken.message})` : ''}`);
    }
    this.stats.commands++;
    if (queue.kickPrepare()) this.stats.kicks++;
    // The driver spins for its answer; commands are one at a time, so the next used buffer is ours.
    const rounds = this.o.maxPumps ?? 8;
    for (let i = 0; i < rounds; i++) {
      this.o.pump();
      const got = queue.getBuf();
      if (got === undefined) continue;
      if (got !== token) throw new GuestBpfError('EIO', `control queue ${queue.name}: the device returned buffer ${got}, expected ${token}`);
      return readCtrlReply(mem, req, queue.lastLen);
    }
    throw new GuestBpfError('EIO', `control queue ${queue.name}: no answer to class ${cls} command ${cmd}${queue.broken ? ` (${queue.broken.message})` : ''}`);
  }

  private ensure(bytes: number): void {
    if (bytes <= this.capacity) return;
    if (this.capacity > 0) this.o.pages.freeRange(this.buf);
    const size = Math.max(bytes, 4096);
    this.buf = this.o.pages.alloc(size);
    this.capacity = Math.ceil(size / this.o.pages.pageSize) * this.o.pages.pageSize;
  }
}
