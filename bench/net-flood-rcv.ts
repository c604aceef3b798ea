// Per-packet cost of the guest's receive of the SK_LOOKUP cover letter's floods on one thread,
// without workers or rings: pktgen's frames (1,024 source ports, built once) each copied into a
// fresh skb as virtio_net's receive does, then netif_receive_skb and the stack, configured as the
// flood's guest is (scenarios/run/run-flood.ts: guestFloodSetup). udp4/udp6: 0-length datagrams
// read by the sink; syn4/syn6: SYNs at the listener that never accepts, tcp_syncookies=2, each
// answered with a cookie SYN-ACK that eth0's driver frees once transmitted (the whole transmit
// path runs; no copy of it is kept, as virtio_net frees it once the host took it). With
// `socketFilter`, the sink drops every datagram in sf_drop.o (SO_ATTACH_BPF), as the sk-lookup
// suite's udp floods run (scenarios/suite/sk-lookup.ts floodAttachments). CPU ns per packet (process.cpuUsage: the machine is
// shared), median of interleaved rounds.
import { register_netdevice } from '../net/core/dev.ts';
import { consume_skb, type SkBuff } from '../net/core/skbuff.ts';
import { receiveFrames } from './rcv-frames.ts';
import { NetDevice, NETDEV_TX_OK, type NetdevTx } from '../net/core/netdevice.ts';
import { BootState } from '../net/core/boot-state.ts';
import { VirtualClock } from '../net/core/virtual-clock.ts';
import { Net } from '../net/core/net-namespace.ts';
import { PktgenTemplate } from '../host/net/pktgen-templates.ts';
import { configureMachine } from '../scenarios/stack/machine-setup.ts';
import { floodTemplate, guestFloodSetup, type FloodKind } from '../scenarios/run/run-flood.ts';
import { NET_ADDRS } from '../scenarios/stack/setup-data.ts';
import { UdpSink } from '../net/apps/discard.ts';
import { check, open_server_socket } from '../net/apps/echo.ts';
import { BpfAttachments } from '../scenarios/stack/bpf-attach.ts';
import { SF_DROP_OBJECT } from '../scenarios/suite/sk-lookup.ts';
import { AF_INET, AF_INET6, SOCK_STREAM } from '../net/core/socket-constants.ts';

const FRAMES = 1024;

/** A rig's flood, and for udp whether sf_drop.o filters the sink (then nothing is read: all dropped). */
export interface FloodRcvSpec {
  kind: FloodKind;
  socketFilter?: boolean;
}

export interface FloodRcvRow {
  kind: FloodKind;
  socketFilter: boolean;
  /** Median CPU ns per packet. */
  nsPerPacket: number;
  rounds: number[];
  sent: number;
  /** What the guest did with them: datagrams read or dropped by the filter (udp), cookie SYN-ACKs sent (syn). */
  handled: number;
  /** Frames the guest transmitted (syn: the SYN-ACKs). */
  tx: number;
}

/** One guest stack configured as the flood's, and the frames it receives. */
export class FloodRcvRig {
  readonly net: Net;
  readonly dev: NetDevice;
  /** Frames eth0 transmitted (the SYN-ACKs). */
  tx = 0;
  sent = 0;
  private readonly u8: Uint8Array;
  private readonly stride: number;
  private readonly len: number;
  private readonly handledNow: () => number;

  readonly kind: FloodKind;
  readonly socketFilter: boolean;

  constructor(spec: FloodKind | FloodRcvSpec) {
    const { kind, socketFilter = false } = typeof spec === 'string' ? { kind: spec } : spec;
    this.kind = kind;
    this.socketFilter = socketFilter;
    const boot = new BootState({ clock: new VirtualClock(), seed: 1 });
    this.net = new Net(boot);
    const mac = Uint8Array.from(NET_ADDRS.guestMac.split(':').map((x) => parseInt(x, 16)));
    const xmit = (skb: SkBuff): NetdevTx => {
      this.tx++;
      consume_skb(skb);
      return NETDEV_TX_OK;
    };
    this.dev = new NetDevice({ name: 'eth0', dev_addr: mac, mtu: 1500, ops: { ndo_start_xmit: xmit } });
    register_netdevice(this.net, this.dev);
    const setup = guestFloodSetup(kind);
    configureMachine(this.net, this.dev, setup);
    const family = setup.family === 6 ? AF_INET6 : AF_INET;
    const mib = this.net.mib;
    if (kind.startsWith('syn')) {
      // One listener and no accept(), as scenarios/stack/machine-setup.ts's syn-listener.
      const s = open_server_socket(this.net, { family, port: setup.port! }, SOCK_STREAM);
      check(s.listen(setup.backlog ?? 1024), 'listen');
      this.handledNow = () => mib.net.SyncookiesSent;
    } else {
      const sink = new UdpSink(this.net, { family, port: setup.port! });
      if (socketFilter) new BpfAttachments(this.net).attach({ kind: 'socket_filter', object: SF_DROP_OBJECT }, this.dev, sink.sock.sk);
      this.handledNow = () => sink.packets + sink.sock.sk.sk_drops;
    }
    const tmpl = new PktgenTemplate({ ...floodTemplate(kind), srcPortCount: FRAMES });
    this.stride = (tmpl.len + 3) & ~3;
    const buf = new Int32Array((this.stride * FRAMES) / 4);
    this.u8 = new Uint8Array(buf.buffer);
    for (let i = 0; i < FRAMES; i++) tmpl.fill(this.u8, buf, i * this.stride);
    this.len = tmpl.len;
  }

  get handled(): number {
    return this.handledNow();
  }

  /** Receives `n` frames; returns CPU ns per packet. */
  round(n: number): number {
    const { dev, u8, len, stride } = this;
    const c0 = process.cpuUsage();
    receiveFrames(dev, u8, len, stride, FRAMES, n);
    const c = process.cpuUsage(c0);
    this.sent += n;
    return ((c.user + c.system) * 1000) / n;
  }
}

/** Interleaved rounds over the kinds' rigs (after a warm-up); the median CPU ns per packet of each. */
export function benchFloodRcv(specs: readonly (FloodKind | FloodRcvSpec)[], packetsPerRound = 100_000, rounds = 9): FloodRcvRow[] {
  const rigs = specs.map((k) => new FloodRcvRig(k));
  for (const r of rigs) r.round(30_000);
  const times: number[][] = rigs.map(() => []);
  for (let k = 0; k < rounds; k++) rigs.forEach((r, i) => times[i]!.push(r.round(packetsPerRound)));
  return rigs.map((r, i) => {
    const sorted = [...times[i]!].sort((a, b) => a - b);
    return { kind: r.kind, socketFilter: r.socketFilter, nsPerPacket: sorted[sorted.length >> 1]!, rounds: times[i]!.map((x) => Math.round(x)), sent: r.sent, handled: r.handled, tx: r.tx };
  });
}
