// A TCP connection as an application drives one without threads: writes are queued and flushed
// as the socket takes them (again on each wake-up that finds buffer space), reads are handed to
// `ondata` as they arrive, and the end of the peer's data (a 0 read) or an error is reported once.
// The shared piece of the TCP apps (echo, discard, client/server, netperf).
import type { Socket } from '../socket.ts';
import { SHUT } from '../core/socket-options.ts';
import type { Sockaddr } from '../core/msghdr.ts';
import { E } from '../core/sock-opts.ts';

export interface TcpConnHandlers {
  /** Bytes read; the view is only valid during the call. */
  ondata?: (conn: TcpConn, data: Uint8Array) => void;
  /** The peer finished sending (read returned 0). */
  onend?: (conn: TcpConn) => void;
  /** The connection failed (-ECONNRESET, -ECONNREFUSED, -ETIMEDOUT, ...). */
  onerror?: (conn: TcpConn, err: number) => void;
  /** Connected (for a connecting client); accepted connections start connected. */
  onconnect?: (conn: TcpConn) => void;
  /** Everything queued has been handed to the socket. */
  ondrain?: (conn: TcpConn) => void;
}

export class TcpConn {
  readonly sock: Socket;
  readonly h: TcpConnHandlers;
  connected: boolean;
  /** Bytes read and written (taken by the socket) so far. */
  bytes_in = 0;
  bytes_out = 0;
  ended = false;
  error = 0;
  private readonly pending: Uint8Array[] = [];
  private pendingOff = 0;
  private shutdownAfterFlush = false;
  private closeAfterFlush = false;
  private readonly rbuf: Uint8Array;
  private inCallback = false;
  private peer: Sockaddr | null = null;
  private again = false;

  constructor(sock: Socket, h: TcpConnHandlers, connected: boolean, rbufSize = 65536) {
    this.sock = sock;
    this.h = h;
    this.connected = connected;
    this.rbuf = new Uint8Array(rbufSize);
    sock.onready = () => this.run();
  }

  /** Queues bytes (copied) and sends what the socket takes now. */
  write(data: Uint8Array): void {
    this.pending.push(data.slice());
    this.flush();
  }

  /** Bytes queued but not yet taken by the socket. */
  get queued(): number {
    let n = -this.pendingOff;
    for (const p of this.pending) n += p.length;
    return n;
  }

  /** shutdown(SHUT_WR) once everything queued is sent. */
  end(): void {
    this.shutdownAfterFlush = true;
    this.flush();
  }

  /** close() once everything queued is sent. */
  close(): void {
    this.closeAfterFlush = true;
    this.flush();
  }

  /** Runs the state machine: wake-ups can come from inside our own calls, so they are folded into one loop. */
  run(): void {
    if (this.inCallback) {
      this.again = true;
      return;
    }
    this.inCallback = true;
    try {
      do {
        this.again = false;
        this.step();
      } while (this.again);
    } finally {
      this.inCallback = false;
    }
  }

  private step(): void {
    if (this.error !== 0) return;
    if (!this.connected) {
      if (this.peer === null) return;
      // A non-blocking connect is finished by calling connect() again: 0 once established,
      // -EALREADY while the handshake runs, the error (sk_err) if it failed.
      const r = this.sock.connect(this.peer);
      if (r === -E.EALREADY || r === -E.EINPROGRESS) return;
      if (r !== 0 && r !== -E.EISCONN) return this.fail(r);
      this.connected = true;
      this.h.onconnect?.(this);
    }
    this.read();
    this.flush();
  }

  /** Starts a non-blocking connect to `peer`; onconnect or onerror follows. */
  connect(peer: Sockaddr): void {
    this.peer = peer;
    this.connected = false;
    this.run();
  }

  private fail(err: number): void {
    if (this.error !== 0) return;
    this.error = err;
    this.h.onerror?.(this, err);
  }

  private read(): void {
    if (this.ended) return;
    for (;;) {
      const n = this.sock.recv(this.rbuf);
      if (n === -E.EAGAIN) return;
      if (n < 0) return this.fail(n);
      if (n === 0) {
        this.ended = true;
        this.h.onend?.(this);
        return;
      }
      this.bytes_in += n;
      this.h.ondata?.(this, this.rbuf.subarray(0, n));
    }
  }

  private flush(): void {
    if (!this.connected || this.error !== 0) return;
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      const chunk = this.pendingOff === 0 ? head : head.subarray(this.pendingOff);
      const n = this.sock.send(chunk);
      if (n === -E.EAGAIN) return;
      if (n < 0) return this.fail(n);
      this.bytes_out += n;
      if (n < chunk.length) {
        this.pendingOff += n;
        return;
      }
      this.pending.shift();
      this.pendingOff = 0;
    }
    this.h.ondrain?.(this);
    if (this.shutdownAfterFlush) {
      this.shutdownAfterFlush = false;
      this.sock.shutdown(SHUT.SHUT_WR);
    }
    if (this.closeAfterFlush) {
      this.closeAfterFlush = false;
      this.ended = true;
      this.connected = false;
      this.sock.close();
    }
  }
}
