// A stack setup module for the four-worker TCP tests (GuestNetSpec.setup / HostNetSpec.setup):
// real IP and TCP on both machines. The guest (eth0 10.0.0.2/24, fd00::2/64) runs a TCP server,
// the host (br0 10.0.0.1/24, fd00::1/64) connects to it. Each side sends its own deterministic
// byte stream (byte i is a hash of a seed and i, so a lost, duplicated or misplaced segment shows
// at its offset) and checks, byte for byte, the stream it receives; both directions run at once.
// Each side ends its stream with a FIN after the last byte and is done once it has read the
// peer's whole stream and its FIN. Counters: bytes that matched, mismatches (and the first bad
// offset), done flags, errors, and the netns's TCP MIB counters about loss and recovery.
import { inet_init } from '../../net/stack.ts';
import { inet_addr_add } from '../../net/ipv4/devinet.ts';
import { ipv6_addr_add } from '../../net/ipv6/addrconf.ts';
import { neigh_add_static } from '../../net/core/neighbour.ts';
import { inet_pton4, inet_pton6 } from '../../net/core/inet-addr.ts';
import { AF_INET, AF_INET6 } from '../../net/core/socket-constants.ts';
import { SOL_TCP, TCP_OPTS } from '../../net/core/socket-options.ts';
import type { Sockaddr } from '../../net/core/msghdr.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import { TcpSock } from '../../net/ipv4/tcp-sock.ts';
import { TcpServer } from '../../net/apps/tcp-server.ts';
import { tcp_connect } from '../../net/apps/tcp-client.ts';
import type { TcpConn } from '../../net/apps/tcp-conn.ts';

export const GUEST_V4 = '10.0.0.2';
export const HOST_V4 = '10.0.0.1';
export const GUEST_V6 = 'fd00::2';
export const HOST_V6 = 'fd00::1';
export const TCP_E2E_PORT = 5001;
/** The two streams' seeds: host -> guest, guest -> host. */
export const SEED_HOST = 0x1234_5678;
export const SEED_GUEST = 0x0bad_cafe;

export interface TcpE2eData {
  /** The guest serves (and listens on the wildcard), the host connects. */
  role: 'server' | 'client';
  family: 4 | 6;
  /** Bytes the host sends to the guest, and the guest to the host. */
  hostBytes: number;
  guestBytes: number;
  /** `ip neigh add ... nud permanent` for the peer (its MAC); none: ARP / neighbour discovery. */
  peerMac?: number[];
  /** Bytes queued to the socket ahead of what it has taken (default 256 KiB). */
  queueAhead?: number;
  /** Bytes per write (default 16 KiB). */
  chunk?: number;
  /** TCP_NODELAY on the connection: each write leaves as its own segment(s). */
  nodelay?: boolean;
}

/** Byte `i` of the stream `seed`: a 32-bit mix of both (murmur3's finalizer), low byte. */
export function patternByte(seed: number, i: number): number {
  let h = (Math.imul(i, 0x9e3779b1) ^ seed) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & 0xff;
}

/** Fills `out` with the stream `seed` from offset `off`. */
export function patternFill(seed: number, off: number, out: Uint8Array): Uint8Array {
  for (let k = 0; k < out.length; k++) out[k] = patternByte(seed, off + k);
  return out;
}

/** The counters both sides report (fixed names: the host publishes the names it sees at setup). */
export const TCP_E2E_COUNTERS = [
  'tcp_e2e_tx_bytes', 'tcp_e2e_rx_ok_bytes', 'tcp_e2e_rx_bad_bytes', 'tcp_e2e_rx_extra_bytes', 'tcp_e2e_first_bad_off',
  'tcp_e2e_rx_eof', 'tcp_e2e_tx_fin', 'tcp_e2e_done', 'tcp_e2e_connected', 'tcp_e2e_accepted', 'tcp_e2e_error',
  'tcp_RetransSegs', 'tcp_InSegs', 'tcp_OutSegs', 'tcp_InErrs', 'tcp_OutRsts', 'tcp_ActiveOpens', 'tcp_PassiveOpens',
  'tcp_TCPTimeouts', 'tcp_TCPFastRetrans', 'tcp_TCPSlowStartRetrans', 'tcp_TCPLossProbes', 'tcp_TCPOFOQueue',
  'tcp_TCPSackRecovery', 'tcp_TCPRenoRecovery', 'tcp_TCPLostRetransmit', 'tcp_TCPSpuriousRTOs', 'tcp_TCPSACKReorder',
  'tcp_TCPRcvQDrop', 'tcp_TCPOFODrop', 'tcp_TCPZeroWindowDrop', 'tcp_PruneCalled', 'tcp_OfoPruned', 'tcp_RcvPruned',
  'arp_OutRequests', 'arp_InReplies', 'Icmp6OutNeighborSolicits', 'Icmp6InNeighborAdvertisements',
  'sk_state', 'sk_rmem_alloc', 'sk_rcvbuf', 'sk_receive_qlen', 'sk_ofo_qlen', 'sk_rcv_wnd', 'sk_drops', 'sk_wmem_queued', 'sk_snd_cwnd',
] as const;

function mibCounters(net: Net): Record<string, number> {
  const tcp = net.mib.tcp as unknown as Record<string, number>;
  const ext = net.mib.net as unknown as Record<string, number>;
  const out: Record<string, number> = {};
  for (const k of ['RetransSegs', 'InSegs', 'OutSegs', 'InErrs', 'OutRsts', 'ActiveOpens', 'PassiveOpens']) out[`tcp_${k}`] = tcp[k] ?? 0;
  for (const k of ['TCPTimeouts', 'TCPFastRetrans', 'TCPSlowStartRetrans', 'TCPLossProbes', 'TCPOFOQueue', 'TCPSackRecovery',
    'TCPRenoRecovery', 'TCPLostRetransmit', 'TCPSpuriousRTOs', 'TCPSACKReorder', 'TCPRcvQDrop', 'TCPOFODrop', 'TCPZeroWindowDrop',
    'PruneCalled', 'OfoPruned', 'RcvPruned']) out[`tcp_${k}`] = ext[k] ?? 0;
  out['arp_OutRequests'] = net.mib.arp.OutRequests;
  out['arp_InReplies'] = net.mib.arp.InReplies;
  out['Icmp6OutNeighborSolicits'] = net.mib.ipv6.Icmp6OutNeighborSolicits;
  out['Icmp6InNeighborAdvertisements'] = net.mib.ipv6.Icmp6InNeighborAdvertisements;
  return out;
}

/** One side of the exchange on one connection: sends its stream, checks the peer's. */
class Exchange {
  tx = 0;
  rxOk = 0;
  rxBad = 0;
  rxExtra = 0;
  firstBad = -1;
  eof = false;
  fin = false;
  error = 0;
  conn: TcpConn | null = null;
  private pumping = false;
  private readonly chunk: Uint8Array;

  constructor(
    private readonly sendSeed: number,
    private readonly sendTotal: number,
    private readonly recvSeed: number,
    private readonly recvTotal: number,
    private readonly queueAhead: number,
    chunk: number,
  ) {
    this.chunk = new Uint8Array(chunk);
  }

  get done(): boolean {
    return this.eof && this.fin && this.rxOk + this.rxBad === this.recvTotal && this.rxExtra === 0;
  }

  ondata(d: Uint8Array): void {
    for (let k = 0; k < d.length; k++) {
      const off = this.rxOk + this.rxBad;
      if (off >= this.recvTotal) {
        this.rxExtra += d.length - k;
        return;
      }
      if (d[k] === patternByte(this.recvSeed, off)) this.rxOk++;
      else {
        if (this.firstBad < 0) this.firstBad = off;
        this.rxBad++;
      }
    }
  }

  /** Keeps up to queueAhead bytes queued on the connection; FIN after the last. */
  pump(): number {
    const c = this.conn;
    // write() flushes, and a flush that empties the queue calls ondrain, which pumps again:
    // the inner call would reuse the chunk and the offset the outer one is still writing.
    if (c === null || !c.connected || this.error !== 0 || this.fin || this.pumping) return 0;
    this.pumping = true;
    let n = 0;
    try {
      while (this.tx < this.sendTotal && c.queued < this.queueAhead) {
        const len = Math.min(this.chunk.length, this.sendTotal - this.tx);
        const off = this.tx;
        this.tx += len;
        c.write(patternFill(this.sendSeed, off, this.chunk.subarray(0, len)));
        n++;
      }
      if (this.tx === this.sendTotal) {
        this.fin = true;
        c.end();
        n++;
      }
    } finally {
      this.pumping = false;
    }
    return n;
  }

  /** The connection's socket as `ss -tmi` would show it (where a stalled transfer stands). */
  sockCounters(): Record<string, number> {
    const sk = this.conn?.sock.sk;
    const tp = sk instanceof TcpSock ? sk : null;
    return {
      sk_state: sk?.skc_state ?? -1, sk_rmem_alloc: sk?.sk_rmem_alloc ?? 0, sk_rcvbuf: sk?.sk_rcvbuf ?? 0,
      sk_receive_qlen: sk?.sk_receive_queue.qlen ?? 0, sk_ofo_qlen: tp?.out_of_order_queue.qlen ?? 0, sk_rcv_wnd: tp?.rcv_wnd ?? 0,
      sk_drops: tp?.sk_drops ?? 0, sk_wmem_queued: sk?.sk_wmem_queued ?? 0, sk_snd_cwnd: tp?.snd_cwnd ?? 0,
    };
  }

  counters(): Record<string, number> {
    return {
      ...this.sockCounters(),
      tcp_e2e_tx_bytes: this.conn?.bytes_out ?? 0, tcp_e2e_rx_ok_bytes: this.rxOk, tcp_e2e_rx_bad_bytes: this.rxBad,
      tcp_e2e_rx_extra_bytes: this.rxExtra, tcp_e2e_first_bad_off: this.firstBad, tcp_e2e_rx_eof: this.eof ? 1 : 0,
      tcp_e2e_tx_fin: this.fin ? 1 : 0, tcp_e2e_done: this.done ? 1 : 0, tcp_e2e_error: this.error === 0 ? 0 : -this.error,
    };
  }
}

function addresses(dev: NetDevice, local4: string, local6: string): void {
  const r4 = inet_addr_add(dev, inet_pton4(local4), 24);
  if (r4 < 0) throw new Error(`${dev.name}: inet_addr_add ${local4}: errno ${-r4}`);
  const r6 = ipv6_addr_add(dev, inet_pton6(local6), 64);
  if (r6 < 0) throw new Error(`${dev.name}: ipv6_addr_add ${local6}: errno ${-r6}`);
}

export function setup(ctx: { machine: 'guest' | 'host'; net: Net; dev: NetDevice; data: unknown }): { poll(): number; counters(): Record<string, number> } {
  const d = ctx.data as TcpE2eData;
  const net = ctx.net;
  const dev = ctx.dev;
  inet_init(net);
  const server = d.role === 'server';
  addresses(dev, server ? GUEST_V4 : HOST_V4, server ? GUEST_V6 : HOST_V6);
  if (d.peerMac !== undefined) {
    const mac = Uint8Array.from(d.peerMac);
    const r4 = neigh_add_static(net, dev, AF_INET, inet_pton4(server ? HOST_V4 : GUEST_V4), mac);
    const r6 = neigh_add_static(net, dev, AF_INET6, inet_pton6(server ? HOST_V6 : GUEST_V6), mac);
    if (r4 < 0 || r6 < 0) throw new Error(`neigh_add_static: ${r4} ${r6}`);
  }
  const queueAhead = d.queueAhead ?? 256 * 1024;
  const chunk = d.chunk ?? 16384;
  const x = server
    ? new Exchange(SEED_GUEST, d.guestBytes, SEED_HOST, d.hostBytes, queueAhead, chunk)
    : new Exchange(SEED_HOST, d.hostBytes, SEED_GUEST, d.guestBytes, queueAhead, chunk);
  const nodelay = (c: TcpConn): void => {
    if (d.nodelay === true) c.sock.setsockopt(SOL_TCP, TCP_OPTS.TCP_NODELAY, 1);
  };
  let accepted = 0, connected = 0, started = false;
  const family = d.family === 6 ? AF_INET6 : AF_INET;

  if (server) {
    new TcpServer(net, { family, port: TCP_E2E_PORT }, {
      onconnection: (c) => {
        accepted++;
        // One exchange: a second connection would be a bug (a duplicate SYN accepted twice).
        if (x.conn === null) { x.conn = c; nodelay(c); }
      },
      ondata: (c, data) => { if (c === x.conn) x.ondata(data); },
      onend: (c) => {
        if (c !== x.conn) return c.close();
        x.eof = true;
        x.pump();
      },
    });
  }

  const start = (): void => {
    started = true;
    const peer: Sockaddr = family === AF_INET6
      ? { family: AF_INET6, addr: inet_pton6(GUEST_V6), port: TCP_E2E_PORT }
      : { family: AF_INET, addr: inet_pton4(GUEST_V4), port: TCP_E2E_PORT };
    x.conn = tcp_connect(net, {
      server: peer,
      onconnect: (c) => { connected++; nodelay(c); x.pump(); },
      ondata: (_c, data) => x.ondata(data),
      onend: () => { x.eof = true; },
      onerror: (_c, err) => { x.error = err; },
      ondrain: () => { x.pump(); },
    });
  };

  return {
    poll(): number {
      // The client connects on its first round: the host loop runs only after the runner's go,
      // by which time the guest's server is listening.
      if (!server && !started) start();
      let n = 0;
      const c = x.conn;
      if (c !== null && c.error !== 0 && x.error === 0) x.error = c.error;
      n += x.pump();
      return n;
    },
    counters(): Record<string, number> {
      return { ...x.counters(), tcp_e2e_connected: connected, tcp_e2e_accepted: accepted, ...mibCounters(net) };
    },
  };
}
