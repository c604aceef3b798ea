// netperf's sending half for a run across two machines (two workers that share no objects): the
// data connection to netserver's data port on the other machine, which the runner gives both
// sides (what netperf would learn over its control connection on 12865), and the four tests as
// doc/netperf.texi defines them (sockets.md §8). The result is assembled by the runner from both
// machines' counters over the measured window.
//
// No pacing on the real clock: a STREAM sender sends until the socket refuses (EAGAIN, or an
// error such as ENOBUFS, counted) and resumes when the socket wakes it (TCP's write space, an RR
// response). Wake-ups run the test's step at once, as netperf's blocked send() or recv() returning
// would, so a response or ACK the NAPI poll delivers is answered in the same poll, whose one
// flush carries the next request. The loop's poll also runs it, and gives the loop back after a
// batch, as a process's time slice ends: a UDP send that the driver drops still "succeeds"
// (udp_send_skb hides ENOBUFS without IP_RECVERR), so a UDP sender that looped until refused
// could loop for ever; UDP_STREAM therefore sends from the poll only.
import type { Net } from '../../net/core/net-namespace.ts';
import type { Sockaddr } from '../../net/core/msghdr.ts';
import { SOCK_DGRAM, SOCK_STREAM, type InetFamily } from '../../net/core/socket-constants.ts';
import { E } from '../../net/core/sock-opts.ts';
import { Socket } from '../../net/socket.ts';
import type { NetperfTest } from '../../net/apps/netserver.ts';

/** Sends (or receive attempts) per loop round at most: a time slice. */
const BATCH = 64;

export interface NetperfSenderOptions {
  test: NetperfTest;
  family: InetFamily;
  peer: Sockaddr;
  /** STREAM: the send size; RR: the request size. */
  size: number;
  /** RR: the response size. */
  responseSize: number;
}

export class NetperfSender {
  readonly o: NetperfSenderOptions;
  readonly sock: Socket;
  /** Messages (sends) and bytes the socket took; sends refused with an error other than EAGAIN. */
  sent = 0;
  bytes_sent = 0;
  send_errors = 0;
  /** RR: completed transactions. */
  transactions = 0;
  connected = false;
  /** The connect failed (errno, negative), or 0. */
  error = 0;
  private readonly payload: Uint8Array;
  private readonly rbuf = new Uint8Array(65536);
  private started = false;
  private outstanding = false;
  private rsp_pending = 0;
  private readonly stream: boolean;
  private readonly tcp: boolean;
  /** Inside a step: a wake-up from our own send or recv is folded into it. */
  private busy = false;

  constructor(net: Net, o: NetperfSenderOptions) {
    this.o = o;
    this.tcp = o.test === 'TCP_STREAM' || o.test === 'TCP_RR';
    this.stream = o.test === 'TCP_STREAM' || o.test === 'UDP_STREAM';
    const s = Socket.create(net, o.family, this.tcp ? SOCK_STREAM : SOCK_DGRAM);
    if (typeof s === 'number') throw new Error(`netperf: socket: errno ${-s}`);
    this.sock = s;
    if (o.test !== 'UDP_STREAM') s.onready = () => { if (!this.busy) this.poll(); };
    this.payload = new Uint8Array(o.size);
    for (let i = 0; i < o.size; i++) this.payload[i] = i & 0xff;
  }

  /** One loop round (or a wake-up): connect on the first, then the test's work. Returns the work done. */
  poll(): number {
    if (this.error !== 0 || this.busy) return 0;
    this.busy = true;
    try {
      return this.step();
    } finally {
      this.busy = false;
    }
  }

  private step(): number {
    if (!this.started) {
      this.started = true;
      const r = this.sock.connect(this.o.peer);
      if (r === 0) this.connected = true;
      else if (r !== -E.EINPROGRESS) this.error = r;
      return 1;
    }
    if (!this.connected) {
      // A non-blocking connect completes when connect() says 0 (or EISCONN).
      const r = this.sock.connect(this.o.peer);
      if (r === 0 || r === -E.EISCONN) this.connected = true;
      else if (r !== -E.EALREADY && r !== -E.EINPROGRESS) this.error = r;
      return 0;
    }
    return this.stream ? this.send_stream() : this.rr();
  }

  private send_stream(): number {
    const s = this.sock, p = this.payload;
    let n = 0;
    for (; n < BATCH; n++) {
      const r = s.send(p);
      if (r >= 0) {
        this.sent++;
        this.bytes_sent += r;
        continue;
      }
      if (r !== -E.EAGAIN) this.send_errors++;
      break;
    }
    return n;
  }

  private rr(): number {
    let work = 0;
    // Read whatever of the response has come.
    if (this.outstanding) {
      for (let i = 0; i < BATCH; i++) {
        const r = this.sock.recv(this.rbuf);
        if (r === -E.EAGAIN) break;
        if (r < 0) {
          this.send_errors++;
          continue;
        }
        work++;
        if (this.tcp) this.rsp_pending -= r;
        else this.rsp_pending = 0;
        if (this.rsp_pending <= 0) {
          this.outstanding = false;
          this.transactions++;
          break;
        }
      }
    }
    if (!this.outstanding) {
      const r = this.sock.send(this.payload);
      if (r >= 0) {
        this.sent++;
        this.bytes_sent += r;
        this.outstanding = true;
        this.rsp_pending = this.o.responseSize;
        work++;
      } else if (r !== -E.EAGAIN) this.send_errors++;
    }
    return work;
  }

  close(): void {
    this.sock.close();
  }
}
