// A request/response UDP server: each datagram goes to `handler`, whose answer (if any) is sent
// back to the source from the address the request came to (IP_PKTINFO), so one wildcard-bound
// server, or one serving a socket an SK_LOOKUP program steers to it, answers from the right
// address. The server half of the UDP client/server pair (udp-client.ts).
import type { Net } from '../core/net-namespace.ts';
import type { Cmsg, MsgHdr, Sockaddr } from '../core/msghdr.ts';
import { AF_INET, AF_INET6, SOCK_DGRAM } from '../core/socket-constants.ts';
import type { Socket } from '../socket.ts';
import { open_server_socket, reply_control, udp_serve, want_pktinfo, type ServerOptions } from './echo.ts';

/** Answers a request: the reply's bytes, or null for none. `to` is where the request was sent (address and port). */
export type UdpHandler = (req: Uint8Array, from: Sockaddr, to: Sockaddr | undefined) => Uint8Array | null;

export class UdpServer {
  readonly sock: Socket;
  requests = 0;
  replies = 0;
  send_errors = 0;
  private readonly handler: UdpHandler;
  private readonly buf = new Uint8Array(65536);
  private readonly msg: MsgHdr = { msg_flags: 0 };

  constructor(net: Net, o: ServerOptions, handler: UdpHandler) {
    this.handler = handler;
    this.sock = open_server_socket(net, o, SOCK_DGRAM);
    want_pktinfo(this.sock);
    this.sock.onready = () => this.serve();
    this.serve();
  }

  private readonly serve = (): void => udp_serve(this.sock, this.buf, this.msg, this.request);

  private readonly request = (n: number): void => {
    const s = this.sock;
    const msg = this.msg;
    this.requests++;
    const from = msg.msg_name!;
    let to: Sockaddr | undefined;
    const ctl: Cmsg[] = msg.msg_control ?? [];
    for (const c of ctl) {
      if (c.kind === 'IP_PKTINFO') to = { family: AF_INET, addr: c.addr, port: s.sk.skc_num };
      else if (c.kind === 'IPV6_PKTINFO') to = { family: AF_INET6, addr: c.addr, port: s.sk.skc_num };
    }
    const reply = this.handler(this.buf.subarray(0, n), from, to);
    if (reply === null) return;
    const r = s.sendmsg(reply, { msg_name: from, msg_control: reply_control(msg.msg_control) });
    if (r < 0) this.send_errors++;
    else this.replies++;
  };

  close(): void {
    this.sock.close();
  }
}
