// The xdp-sk suite's one-thread cells: an XDP program run packet after packet on this thread
// against a guest-like stack (eth0 configured as the flood's guest, the UDP sink on port 9), as
// bench/sk-lookup-main.ts measures the lookup helpers, so the per-packet cost of the firewall's
// lookup is not at the mercy of four workers sharing two busy cores. Rounds of packets until the
// window is spent; the median round's ns per packet. The same frames as the flood (pktgen's
// template, 64 source ports), so the verdicts are the flood's: xdp1 drops, the firewall drops
// (no socket) or passes (the sink's port). Every run's action is checked and every run counted by
// the program's map: the cell balances when both agree with the number of runs.
import { dumpMap, loadObjectFile, XdpProgramRunner, type EngineName } from '../../bpf-vm/index.ts';
import { PktgenTemplate } from '../../host/net/pktgen-templates.ts';
import { UdpSink } from '../../net/apps/discard.ts';
import { BootState } from '../../net/core/boot-state.ts';
import { register_netdevice } from '../../net/core/dev.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { AF_INET } from '../../net/core/socket-constants.ts';
import { VethDevice } from '../../net/core/veth.ts';
import { VirtualClock } from '../../net/core/virtual-clock.ts';
import { benchObject } from '../run/programs.ts';
import { floodTemplate, guestFloodSetup } from '../run/run-flood.ts';
import { configureMachine } from '../stack/machine-setup.ts';
import { NET_ADDRS, NET_PORTS } from '../stack/setup-data.ts';

/** XDP actions (uapi/linux/bpf.h). */
export const XDP_ACTION = { XDP_ABORTED: 0, XDP_DROP: 1, XDP_PASS: 2 } as const;

const FRAMES = 64;
const FRAME_SIZE = 4096;
const HEADROOM = 256;
/** Packets per timed round: long enough for the clock, short enough for many rounds in a window. */
const ROUND = 5_000;
const MIN_ROUNDS = 5;

export interface XdpCostOptions {
  program: 'xdp1' | 'firewall';
  /** The UDP flood's destination port: NET_PORTS.udpSink has a socket, others none. */
  dstPort: number;
  engine: EngineName;
  /** Seconds of timed rounds (at least MIN_ROUNDS rounds). */
  seconds: number;
  firewallObject: string;
}

export interface XdpCostResult {
  /** The median round's ns per packet. */
  nsPerPacket: number;
  minNs: number;
  maxNs: number;
  /** Program runs in total (warm-up included), the actions they returned, the program's own count. */
  runs: number;
  actions: Record<string, number>;
  mapCounted: number;
  /** The program's counters by slot (fw_verdicts, or xdp1's per-protocol rxcnt). */
  slots: number[];
  expected: number;
  balanced: boolean;
}

function u64Slots(entries: readonly { key: Uint8Array; value: Uint8Array }[]): number[] {
  const out: number[] = [];
  for (const e of entries) {
    const k = new DataView(e.key.buffer, e.key.byteOffset, 4).getUint32(0, true);
    out[k] = Number(new DataView(e.value.buffer, e.value.byteOffset, 8).getBigUint64(0, true));
  }
  return out;
}

export function measureXdpCost(o: XdpCostOptions): XdpCostResult {
  const net = new Net(new BootState({ clock: new VirtualClock(), seed: 1 }));
  const dev = new VethDevice('eth0', Uint8Array.from(NET_ADDRS.guestMac.split(':').map((x) => parseInt(x, 16))));
  register_netdevice(net, dev);
  configureMachine(net, dev, guestFloodSetup('udp4'));
  // The sink holds its socket for the lookups to find; nothing reaches it (XDP runs alone).
  new UdpSink(net, { family: AF_INET, port: NET_PORTS.udpSink });
  const coll = loadObjectFile(o.program === 'xdp1' ? benchObject('xdp1') : o.firewallObject);
  const runner = new XdpProgramRunner(coll.program(), { engine: o.engine, netHost: net_bpf_host(net) });

  const tmpl = new PktgenTemplate({ ...floodTemplate('udp4'), dstPort: o.dstPort, srcPortCount: FRAMES });
  const buf = new Int32Array((FRAMES * FRAME_SIZE) / 4);
  const u8 = new Uint8Array(buf.buffer);
  for (let i = 0; i < FRAMES; i++) tmpl.fill(u8, buf, i * FRAME_SIZE + HEADROOM);
  const len = tmpl.len;
  runner.xdp.prepare(u8, 0, FRAME_SIZE, HEADROOM, len);

  const actions: Record<string, number> = {};
  let runs = 0;
  const round = (n: number): number => {
    const t0 = process.hrtime.bigint();
    let last = -1, same = 0;
    for (let i = 0; i < n; i++) {
      runner.xdp.reset((i & (FRAMES - 1)) * FRAME_SIZE, HEADROOM, len);
      const a = runner.run();
      if (a === last) same++;
      else {
        if (last >= 0) actions[String(last)] = (actions[String(last)] ?? 0) + same;
        last = a;
        same = 1;
      }
    }
    const ns = Number(process.hrtime.bigint() - t0) / n;
    if (last >= 0) actions[String(last)] = (actions[String(last)] ?? 0) + same;
    runs += n;
    return ns;
  };
  round(ROUND);
  const samples: number[] = [];
  const until = performance.now() + o.seconds * 1000;
  while (samples.length < MIN_ROUNDS || performance.now() < until) samples.push(round(ROUND));
  samples.sort((a, b) => a - b);
  const mapName = o.program === 'xdp1' ? 'rxcnt' : 'fw_verdicts';
  const map = coll.maps.get(mapName);
  const slots = map !== undefined ? u64Slots(dumpMap(map)) : [];
  const mapCounted = slots.reduce((a, b) => a + (b ?? 0), 0);
  const expected = o.program === 'firewall' && o.dstPort === NET_PORTS.udpSink ? XDP_ACTION.XDP_PASS : XDP_ACTION.XDP_DROP;
  return {
    nsPerPacket: samples[Math.floor(samples.length / 2)]!, minNs: samples[0]!, maxNs: samples[samples.length - 1]!,
    runs, actions, mapCounted, slots, expected,
    balanced: (actions[String(expected)] ?? 0) === runs && mapCounted === runs,
  };
}
