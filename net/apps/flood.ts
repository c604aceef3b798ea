// A UDP flood source (the sender of `vxo run flood`): datagrams of one size to one destination,
// `per_jiffy` of them each jiffy of the machine's clock (a clock does not move while packets do,
// so a sender must pace itself, as netperf's -b/-w does), from one socket or spread over
// `flows` source ports so a receiver's reuseport group or RSS sees many 4-tuples. The receiver
// is a UdpSink (discard.ts). Sends allocate nothing per datagram beyond the pooled skb.
import type { Net } from '../core/net-namespace.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { SOCK_DGRAM } from '../core/socket-constants.ts';
import { TimerList } from '../core/clock.ts';
import { E } from '../core/sock-opts.ts';
import { Socket } from '../socket.ts';
import { check } from './echo.ts';

export interface UdpFloodOptions {
  target: Sockaddr;
  /** Payload bytes per datagram (default 18: the 64-byte frame of packet-rate tests). */
  size?: number;
  per_jiffy: number;
  /** Source sockets (distinct source ports), used round-robin; default 1. */
  flows?: number;
  /** Stop after this many datagrams (default: until stop()). */
  count?: number;
}

export class UdpFlood {
  readonly net: Net;
  readonly o: UdpFloodOptions;
  readonly socks: Socket[] = [];
  sent = 0;
  /** Sends refused (-EAGAIN with a full buffer, or an error such as ECONNREFUSED). */
  errors = 0;
  running = false;
  private readonly payload: Uint8Array;
  private readonly timer: TimerList;
  private next = 0;

  constructor(net: Net, o: UdpFloodOptions) {
    this.net = net;
    this.o = o;
    this.payload = new Uint8Array(o.size ?? 18);
    for (let i = 0; i < (o.flows ?? 1); i++) {
      const s = Socket.create(net, o.target.family, SOCK_DGRAM);
      if (typeof s === 'number') throw new Error(`socket: ${s}`);
      check(s.connect(o.target), 'connect');
      this.socks.push(s);
    }
    this.timer = new TimerList(() => this.tick());
  }

  start(): void {
    this.running = true;
    this.tick();
  }

  stop(): void {
    this.running = false;
    this.net.boot.clock.del_timer(this.timer);
  }

  private tick(): void {
    if (!this.running) return;
    const socks = this.socks;
    const n = socks.length;
    const count = this.o.count ?? Infinity;
    for (let i = 0; i < this.o.per_jiffy && this.sent < count; i++) {
      const r = socks[this.next]!.send(this.payload);
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      if (r >= 0) this.sent++;
      else {
        this.errors++;
        if (r !== -E.EAGAIN && r !== -E.ECONNREFUSED) break;
      }
    }
    if (this.sent >= count) return this.stop();
    const clock = this.net.boot.clock;
    clock.mod_timer(this.timer, clock.get_jiffies_64() + 1);
  }

  close(): void {
    this.stop();
    for (const s of this.socks) s.close();
  }
}
