// Per-packet cost of the guest's UDP receive path on one thread, without workers or rings: 0-length
// UDP frames from pktgen's template (1,024 source ports, built once), each copied into a fresh skb
// as virtio_net's receive does (netdev_alloc_skb, eth_type_trans), then netif_receive_skb ->
// ip_rcv -> udp_rcv -> the socket's queue -> recv by the sink. ns per packet, median of rounds.
// Several rigs (one Net each, configured differently: an SK_LOOKUP program attached, say) are
// measured in interleaved rounds, so a slow moment of the machine hits all of them alike.
import { receiveFrames } from './rcv-frames.ts';
import { VethDevice } from '../net/core/veth.ts';
import { BootState } from '../net/core/boot-state.ts';
import { VirtualClock } from '../net/core/virtual-clock.ts';
import { Net } from '../net/core/net-namespace.ts';
import { register_netdevice } from '../net/core/dev.ts';
import { UdpSink } from '../net/apps/discard.ts';
import { AF_INET, AF_INET6 } from '../net/core/socket-constants.ts';
import { PktgenTemplate } from '../host/net/pktgen-templates.ts';
import { configureMachine } from '../scenarios/stack/machine-setup.ts';
import { floodTemplate, guestFloodSetup } from '../scenarios/run/run-flood.ts';
import { NET_ADDRS } from '../scenarios/stack/setup-data.ts';

export interface UdpRcvBench {
  family: 4 | 6;
  nsPerPacket: number;
  rounds: number[];
  /** Datagrams the sink read in all (every packet sent, or the bench is wrong). */
  read: number;
  sent: number;
}

const FRAMES = 1024;

/** One guest stack with its sink, and the frames it receives. */
export class UdpRcvRig {
  readonly net: Net;
  readonly dev: VethDevice;
  readonly sink: UdpSink;
  sent = 0;
  private readonly u8: Uint8Array;
  private readonly stride: number;
  private readonly len: number;

  constructor(readonly family: 4 | 6) {
    const kind = family === 6 ? 'udp6' : 'udp4';
    const boot = new BootState({ clock: new VirtualClock(), seed: 1 });
    this.net = new Net(boot);
    const mac = Uint8Array.from(NET_ADDRS.guestMac.split(':').map((x) => parseInt(x, 16)));
    this.dev = new VethDevice('eth0', mac);
    register_netdevice(this.net, this.dev);
    configureMachine(this.net, this.dev, { ...guestFloodSetup(kind) });
    this.sink = new UdpSink(this.net, { family: family === 6 ? AF_INET6 : AF_INET, port: 9 });
    const tmpl = new PktgenTemplate({ ...floodTemplate(kind), srcPortCount: FRAMES });
    this.stride = (tmpl.len + 3) & ~3;
    const buf = new Int32Array((this.stride * FRAMES) / 4);
    this.u8 = new Uint8Array(buf.buffer);
    for (let i = 0; i < FRAMES; i++) tmpl.fill(this.u8, buf, i * this.stride);
    this.len = tmpl.len;
  }

  /** Receives `n` frames; returns ns per packet. */
  round(n: number): number {
    const { dev, u8, len, stride } = this;
    const t0 = process.hrtime.bigint();
    receiveFrames(dev, u8, len, stride, FRAMES, n);
    const ns = Number(process.hrtime.bigint() - t0);
    this.sent += n;
    return ns / n;
  }
}

/** Interleaved rounds over the rigs; the median ns per packet of each. */
export function measureRigs(rigs: readonly UdpRcvRig[], packetsPerRound: number, rounds: number): UdpRcvBench[] {
  for (const r of rigs) r.round(20_000);
  const times: number[][] = rigs.map(() => []);
  for (let k = 0; k < rounds; k++) rigs.forEach((r, i) => times[i]!.push(r.round(packetsPerRound)));
  return rigs.map((r, i) => {
    const sorted = [...times[i]!].sort((a, b) => a - b);
    return { family: r.family, nsPerPacket: sorted[Math.floor(sorted.length / 2)]!, rounds: times[i]!.map((x) => Math.round(x)), read: r.sink.packets, sent: r.sent };
  });
}

export function benchUdpRcv(family: 4 | 6, packetsPerRound = 200_000, rounds = 7): UdpRcvBench {
  return measureRigs([new UdpRcvRig(family)], packetsPerRound, rounds)[0]!;
}
