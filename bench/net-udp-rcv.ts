// Per-packet cost of the guest's UDP receive path on one thread, without workers or rings: 0-length
// UDP frames from pktgen's template (1,024 source ports, built once), each copied into a fresh skb
// as virtio_net's receive does (netdev_alloc_skb, eth_type_trans), then netif_receive_skb ->
// ip_rcv -> udp_rcv -> the socket's queue -> recv by the sink. ns per packet, median of rounds.
import { netif_receive_skb } from '../net/core/dev.ts';
import { netdev_alloc_skb, skb_put } from '../net/core/skbuff.ts';
import { eth_type_trans } from '../net/ethernet/eth.ts';
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

export function benchUdpRcv(family: 4 | 6, packetsPerRound = 200_000, rounds = 7): UdpRcvBench {
  const kind = family === 6 ? 'udp6' : 'udp4';
  const boot = new BootState({ clock: new VirtualClock(), seed: 1 });
  const net = new Net(boot);
  const mac = Uint8Array.from(NET_ADDRS.guestMac.split(':').map((x) => parseInt(x, 16)));
  const dev = new VethDevice('eth0', mac);
  register_netdevice(net, dev);
  configureMachine(net, dev, { ...guestFloodSetup(kind) });
  const sink = new UdpSink(net, { family: family === 6 ? AF_INET6 : AF_INET, port: 9 });
  // The frames, built once.
  const tmpl = new PktgenTemplate({ ...floodTemplate(kind), srcPortCount: FRAMES });
  const stride = (tmpl.len + 3) & ~3;
  const buf = new Int32Array((stride * FRAMES) / 4);
  const u8 = new Uint8Array(buf.buffer);
  for (let i = 0; i < FRAMES; i++) tmpl.fill(u8, buf, i * stride);
  const len = tmpl.len;
  const one = (i: number): void => {
    const skb = netdev_alloc_skb(dev, len);
    const at = skb_put(skb, len);
    const off = (i & (FRAMES - 1)) * stride;
    const b = skb.head;
    for (let k = 0; k < len; k++) b[at + k] = u8[off + k]!;
    skb.protocol = eth_type_trans(skb, dev);
    netif_receive_skb(skb);
  };
  for (let i = 0; i < 20_000; i++) one(i);
  const times: number[] = [];
  let sent = 20_000;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < packetsPerRound; i++) one(i);
    const ns = Number(process.hrtime.bigint() - t0);
    sent += packetsPerRound;
    times.push(ns / packetsPerRound);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { family, nsPerPacket: sorted[Math.floor(sorted.length / 2)]!, rounds: times.map((x) => Math.round(x)), read: sink.packets, sent };
}
