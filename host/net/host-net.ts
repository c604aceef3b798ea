// The host network of the benchmark, composed for the host worker: pktgen on the far end of the
// wire, the NIC's receive path, and the tap's producer side. Case 1: the NIC's XDP program
// (redirect.o) XDP_REDIRECTs every frame through a DEVMAP to the tap, which takes bulks through
// tun_xdp_xmit. Case 2: the NIC passes frames up the stack into a bridge whose other port is the
// tap, which takes them one by one through tun_net_xmit. With tc (enableTc) the NIC and the tap
// get clsact hooks: ingress before the bridge, egress before the driver (tc.ts).
import { BPF_MAP_TYPE, loadObjectFile, XdpProgramRunner, type XdpRunnerOptions } from '../../bpf-vm/index.ts';
import {
  build_skb, NET_SKB_PAD, SKB, SKB_HEAD_WORDS,
  type PagePool, type PagePoolAccounting, type SoftnetBacklog, type TunXmit, type TunXmitStats,
} from '../../tun/index.ts';
import { register_netdevice } from '../../net/core/dev.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import { Bridge, ETH_DATA_LEN, type BridgeStats } from './bridge.ts';
import { devQueueXmit } from './dev-queue-xmit.ts';
import { eth_type_trans, macHalves, type MacHalves } from './eth.ts';
import { HostStackPort, type HostStackPortStats } from './host-port.ts';
import { HostNetError } from './errors.ts';
import { NetDevices, tapDevice, type NetDevice } from './netdev.ts';
import { Nic, type NicStats } from './nic.ts';
import { parseMac, Pktgen, type PktgenOptions, type PktgenStats } from './pktgen.ts';
import type { HostTc } from './tc.ts';

export type HostNetCase = 'xdp-redirect' | 'bridge';

export const HOST_NET_DEFAULTS = {
  nicIfindex: 2,
  tapIfindex: 3,
  nicName: 'eth0',
  tapName: 'tap0',
  bridgeIfindex: 4,
  bridgeName: 'br0',
  /** The tap's host-side address (locally administered); guest frames are for other addresses. */
  tapMac: '02:00:00:00:01:03',
  /** Backlog frames process_backlog takes per call (the backlog's NAPI weight, weight_p). */
  backlogWeight: 64,
} as const;

export interface HostNetOptions {
  /** 'xdp-redirect' (Case 1) or 'bridge' (Case 2). */
  case: HostNetCase;
  /** The frames' owner. */
  pool: PagePool;
  /** The tap queue's producer side. */
  tap: TunXmit;
  /** Case 1: the NIC's program, with its DEVMAP already pointing at tapIfindex (see redirectProgram). */
  nicProgram?: XdpProgramRunner;
  pktgen?: PktgenOptions;
  budget?: number;
  nicIfindex?: number;
  tapIfindex?: number;
  /**
   * Whether the NIC's wire carries pktgen's traffic (default true). False: pktgen sends nothing
   * and the loop does not poll the NIC (a stack-only run).
   */
  wire?: boolean;
  /**
   * The host's stack, Case 2 only: br0 (a bridge port, HostStackPort) is registered in this Net,
   * so frames for br0's address go up the stack and the stack sends through the bridge.
   */
  stack?: Net;
  /** br0's address (default BR0_DEFAULT_MAC). */
  bridgeMac?: string;
  /**
   * The backlog the tap's Rx path fills in the vhost worker (tun/backlog.ts): with it, what the
   * guest sends reaches the bridge (Case 2) or ends at the tap's host side (Case 1).
   */
  backlog?: SoftnetBacklog;
}

export interface HostNetStats {
  pktgen: PktgenStats;
  nic: NicStats;
  bridge: BridgeStats | undefined;
  tap: TunXmitStats;
  /** Where the frames are, and how often the allocator went to the recycle ring and what it brought back. */
  pool: PagePoolAccounting & { refills: number; recycled: number; alloc_slow: number };
  /** The tap's frames towards the host (the guest's transmits), as this worker took them. */
  tap_rx: TapRxStats | undefined;
  /** br0, the host stack's bridge port. */
  br0: HostStackPortStats | undefined;
  /** tc on the host's devices (HostTc.counters), when enabled. */
  tc: Record<string, number> | undefined;
}

export interface TapRxStats {
  /** Frames taken off the backlog, and their bytes. */
  packets: number;
  bytes: number;
  /** Passed to the tap's receive path: its tc ingress hook, then the bridge on the tap's port. */
  to_bridge: number;
  /** No bridge (Case 1): the host stack behind the tap takes them (counted, freed). */
  delivered: number;
  /** No pool frame for them, or shorter than an Ethernet header: dropped. */
  no_buffer: number;
  length_errors: number;
}

/**
 * generated (+ bridge clones) = every way a frame ended on the host side, term by term. With a
 * backlog or a host stack, frames also enter from the tap (`from_tap`) and from the host stack
 * (`from_stack`), and end in the tap_rx_* and host_stack_delivered terms as well as the bridge's.
 * With tc, skbs also end in tc: tc_shot (SHOT, faults), tc_stolen (STOLEN, QUEUED, TRAP),
 * tc_redirect_err (a redirect with nowhere to go) and tc_backlog_dropped (a BPF_F_INGRESS redirect
 * a full backlog refused), or wait in its backlog (tc_backlog_queued).
 */
export interface HostNetConservation {
  generated: number;
  clones: number;
  from_tap?: number;
  from_stack?: number;
  terms: Record<string, number>;
  accounted: number;
  balanced: boolean;
}

export class HostNet {
  readonly mode: HostNetCase;
  readonly pool: PagePool;
  readonly tap: TunXmit;
  readonly pktgen: Pktgen;
  readonly devices = new NetDevices();
  readonly nic: Nic;
  readonly bridge: Bridge | undefined;
  readonly tapIfindex: number;
  /** Whether the NIC is polled (HostNetOptions.wire). */
  readonly wire: boolean;
  /** br0 when a host stack is attached (Case 2). */
  readonly hostPort: HostStackPort | undefined;
  readonly backlog: SoftnetBacklog | undefined;
  /** The tap as a device: what the bridge's tap port and tc's redirects transmit on. */
  readonly tapDev: NetDevice;
  /** tc on the NIC and the tap (enableTc). */
  tc: HostTc | undefined = undefined;
  private tapPort = -1;
  private readonly tapMac: MacHalves = macHalves(parseMac(HOST_NET_DEFAULTS.tapMac));
  private readonly receiveTapFrame = (u8: Uint8Array, off: number, len: number): void => this.tun_rx_frame(u8, off, len);
  readonly tap_rx: TapRxStats = { packets: 0, bytes: 0, to_bridge: 0, delivered: 0, no_buffer: 0, length_errors: 0 };

  constructor(opts: HostNetOptions) {
    if (opts.case !== 'xdp-redirect' && opts.case !== 'bridge') throw new HostNetError('EINVAL', `host net: unknown case '${String(opts.case)}'`);
    if (opts.case === 'xdp-redirect' && opts.nicProgram === undefined) {
      throw new HostNetError('EINVAL', 'host net: the XDP redirect case needs the NIC program (HostNet.redirectProgram)');
    }
    this.mode = opts.case;
    this.pool = opts.pool;
    this.tap = opts.tap;
    this.tapIfindex = opts.tapIfindex ?? HOST_NET_DEFAULTS.tapIfindex;
    const nicIfindex = opts.nicIfindex ?? HOST_NET_DEFAULTS.nicIfindex;
    this.wire = opts.wire ?? true;
    this.backlog = opts.backlog;
    // Without a wire pktgen still exists (its counters are part of every report) but is never polled.
    this.pktgen = new Pktgen(opts.pktgen);
    this.nic = new Nic({ name: HOST_NET_DEFAULTS.nicName, ifindex: nicIfindex, pool: this.pool, wire: this.pktgen, devices: this.devices, budget: opts.budget });
    const tapDev = tapDevice(HOST_NET_DEFAULTS.tapName, this.tap, this.tapIfindex);
    this.tapDev = tapDev;
    this.devices.register(nicIfindex, this.nic);
    this.devices.register(this.tapIfindex, tapDev);
    if (opts.stack !== undefined && opts.case !== 'bridge') throw new HostNetError('EINVAL', 'host net: a host stack sits on the bridge (Case 2)');
    if (opts.case === 'bridge') {
      this.bridge = new Bridge(this.pool);
      const nicPort = this.bridge.addPort(this.nic);
      this.tapPort = this.bridge.addPort(tapDev);
      this.nic.stack = this.bridge.input(nicPort);
      if (opts.stack !== undefined) {
        const port = new HostStackPort(this.pool, {
          name: HOST_NET_DEFAULTS.bridgeName, ifindex: HOST_NET_DEFAULTS.bridgeIfindex, ...(opts.bridgeMac ? { mac: opts.bridgeMac } : {}),
        });
        this.devices.register(HOST_NET_DEFAULTS.bridgeIfindex, port);
        port.attach(this.bridge, this.bridge.addPort(port));
        register_netdevice(opts.stack, port.dev);
        this.hostPort = port;
      } else {
        this.hostPort = undefined;
      }
    } else {
      this.bridge = undefined;
      this.hostPort = undefined;
    }
    if (opts.nicProgram) this.nic.attach(opts.nicProgram);
  }

  /**
   * redirect.o (or any object whose DEVMAP `tx_port` slot 0 names the target) loaded and ready for
   * the NIC, with tx_port[0] = tapIfindex.
   */
  static redirectProgram(objPath: string, tapIfindex: number = HOST_NET_DEFAULTS.tapIfindex, opts: XdpRunnerOptions = {}): XdpProgramRunner {
    const coll = loadObjectFile(objPath);
    const txPort = coll.maps.get('tx_port');
    if (txPort === undefined || txPort.spec.type !== BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP) {
      throw new HostNetError('EINVAL', `${objPath}: no DEVMAP named tx_port`);
    }
    const key = new Uint8Array(4);
    const value = new Uint8Array(txPort.spec.valueSize);
    new DataView(value.buffer).setUint32(0, tapIfindex, true);
    const err = txPort.update(key, value);
    if (err !== 0) throw new HostNetError('EINVAL', `${objPath}: tx_port[0] = ${tapIfindex} failed (${err})`);
    return new XdpProgramRunner(coll.program(), opts);
  }

  /**
   * Gives the NIC and the tap clsact hooks (filters are added with tc.attach), br0's are net's;
   * registers where tc redirects go: the NIC (receive: its netif_receive_skb; transmit: its
   * dev_queue_xmit), the tap (receive: its tc ingress, then the bridge, or in Case 1 with a
   * backlog the host stack behind it; transmit: its dev_queue_xmit to tun_net_xmit) and br0
   * (receive: up the host stack; transmit: br_dev_xmit).
   */
  enableTc(tc: HostTc): void {
    if (this.tc !== undefined) throw new HostNetError('EEXIST', 'host net: tc is enabled already');
    if (tc.pool !== this.pool) throw new HostNetError('EINVAL', 'host net: tc must work on this host\'s pool');
    this.tc = tc;
    const fp = this.pool.pool, nic = this.nic, tapDev = this.tapDev, bridge = this.bridge, hp = this.hostPort;
    nic.tc = tc.addDevice('nic', nic.name, nic.ifindex, nic.mtu);
    tapDev.tc = tc.addDevice('tap', tapDev.name, this.tapIfindex, tapDev.mtu ?? ETH_DATA_LEN);
    tc.setTarget(nic.ifindex, { name: nic.name, mtu: nic.mtu, receive: (h) => nic.netif_receive_skb(h), transmit: devQueueXmit(nic, fp) });
    tc.setTarget(this.tapIfindex, {
      name: tapDev.name, mtu: tapDev.mtu ?? ETH_DATA_LEN, transmit: devQueueXmit(tapDev, fp),
      // Case 1 counts what the tap's receive path delivers in tap_rx, which exists with a backlog.
      ...(bridge !== undefined || this.backlog !== undefined ? { receive: (h: number) => this.tap_receive_skb(h) } : {}),
    });
    if (bridge !== undefined) bridge.tcState = tc.state;
    if (hp !== undefined) {
      hp.tcState = tc.state;
      tc.setBridgeDevice(hp.dev);
      tc.setTarget(hp.ifindex, { name: hp.name, mtu: hp.mtu, receive: (h) => hp.ndo_start_xmit(h), transmit: (h) => { hp.xmitFrame(h); } });
    }
  }

  /**
   * One NAPI poll of the NIC, then, with tc, one poll of the backlog its BPF_F_INGRESS redirects
   * fill (net_rx_action polls the backlog's instance after the NIC's that scheduled it); without a
   * wire only the backlog's, which the host stack's transmits may have filled. Returns the frames
   * that came off the wire and out of the backlog.
   */
  poll(): number {
    const n = this.wire ? this.nic.napi_poll() : 0;
    const tc = this.tc;
    return tc === undefined || tc.backlog.queued === 0 ? n : n + tc.process_backlog();
  }

  /**
   * process_backlog: up to `budget` frames the guest sent (through vhost and the tap's Rx path)
   * into the host: each is copied into a pool frame and becomes an skb on the tap (build_skb,
   * eth_type_trans) that enters the bridge on the tap's port; without a bridge (Case 1) the host
   * stack behind the tap takes it. Then, with tc, one poll of the backlog the tap's redirects
   * may have filled. Returns how many frames both took.
   */
  process_backlog(budget: number = HOST_NET_DEFAULTS.backlogWeight): number {
    const b = this.backlog;
    const n = b === undefined ? 0 : b.process_backlog(budget, this.receiveTapFrame);
    const tc = this.tc;
    return tc === undefined || tc.backlog.queued === 0 ? n : n + tc.process_backlog();
  }

  /**
   * Whether a receive poll has work waiting (NET_RX_SOFTIRQ pending): the guest's frames on the
   * tap's backlog, or skbs tc's redirects queued (the host stack's transmits can queue some
   * between polls). A loop checks it after arming its wake-up, before it sleeps.
   */
  rxPending(): boolean {
    return (this.backlog?.hasData() ?? false) || (this.tc !== undefined && this.tc.backlog.queued !== 0);
  }

  private tun_rx_frame(src: Uint8Array, off: number, len: number): void {
    const r = this.tap_rx;
    r.packets++;
    r.bytes += len;
    // Case 1: the host stack behind the tap takes the frame as it is, unless the tap's tc ingress
    // hook has programs, which need an skb.
    const tc = this.tapDev.tc;
    if (this.bridge === undefined && (tc === undefined || !tc.ingressActive)) {
      r.delivered++;
      return;
    }
    if (len < 14) {
      r.length_errors++;
      return;
    }
    const pool = this.pool, fp = pool.pool;
    const h = pool.alloc();
    if (h < 0) {
      r.no_buffer++;
      return;
    }
    // tun_build_skb leaves XDP headroom only when it ran a program; the Rx path ran its program
    // in the vhost worker already, so this skb gets what an skb needs.
    const at = fp.frameStart(h) + NET_SKB_PAD;
    const u8 = fp.u8;
    if ((off & 3) === 0 && len > 64) u8.set(src.subarray(off, off + len), at);
    else for (let i = 0; i < len; i++) u8[at + i] = src[off + i]!;
    build_skb(fp, h, NET_SKB_PAD, len);
    this.tc?.state.reset(h);
    if (this.bridge !== undefined) r.to_bridge++;
    this.tap_receive_skb(h);
  }

  /**
   * An skb arriving on the tap, data at its MAC header: what the guest sent, or what tc
   * redirected here with BPF_F_INGRESS. eth_type_trans, the tap's tc ingress, then the bridge
   * (Case 2) or the host stack behind the tap (Case 1: counted as delivered, freed).
   */
  private tap_receive_skb(h: number): void {
    const fp = this.pool.pool;
    eth_type_trans(fp, h, this.tapIfindex, this.tapMac);
    fp.skb[h * SKB_HEAD_WORDS + SKB.SKB_IIF] = this.tapIfindex;
    const tc = this.tapDev.tc;
    if (tc !== undefined && tc.ingressActive && !tc.sch_handle_ingress(h)) return;
    const bridge = this.bridge;
    if (bridge !== undefined) {
      bridge.br_handle_frame(this.tapPort, h);
      return;
    }
    this.tap_rx.delivered++;
    this.pool.free(h);
  }

  stats(): HostNetStats {
    return {
      pktgen: this.pktgen.stats(),
      nic: this.nic.stats(),
      bridge: this.bridge?.stats(),
      tap: this.tap.stats(),
      pool: { ...this.pool.accounting(), refills: this.pool.refills, recycled: this.pool.recycled, alloc_slow: this.pool.alloc_slow },
      tap_rx: this.backlog === undefined ? undefined : { ...this.tap_rx },
      br0: this.hostPort?.stats(),
      tc: this.tc?.counters(),
    };
  }

  conservation(): HostNetConservation {
    const n = this.nic, b = this.bridge, t = this.tap;
    const terms: Record<string, number> = {
      nic_rx_missed: n.rx_missed,
      nic_rx_length_errors: n.rx_length_errors,
      nic_xdp_drop: n.xdp_drop,
      nic_xdp_aborted: n.xdp_aborted,
      nic_xdp_tx: n.xdp_tx,
      nic_redirect_err: n.redirect_err,
      nic_stack_delivered: n.stack_delivered,
      nic_wire_tx: n.tx_packets,
      nic_bulk_queued: n.bulkQueued(),
      bridge_dropped: b?.dropped ?? 0,
      bridge_filtered: b?.filtered ?? 0,
      tap_dropped: t.tx_dropped,
      tap_enqueued: t.tx_packets,
    };
    const extra: { from_tap?: number; from_stack?: number } = {};
    let sources = 0;
    if (this.backlog !== undefined) {
      const r = this.tap_rx;
      terms['tap_rx_delivered'] = r.delivered;
      terms['tap_rx_no_buffer'] = r.no_buffer;
      terms['tap_rx_length_errors'] = r.length_errors;
      extra.from_tap = r.packets;
      sources += r.packets;
    }
    const tc = this.tc;
    if (tc !== undefined) {
      terms['tc_shot'] = tc.shot;
      terms['tc_stolen'] = tc.stolen;
      terms['tc_redirect_err'] = tc.redirect_err;
      // BPF_F_INGRESS redirects: refused by a full backlog, or waiting in it for process_backlog.
      terms['tc_backlog_dropped'] = tc.backlog.dropped;
      terms['tc_backlog_queued'] = tc.backlog.queued;
    }
    const hp = this.hostPort;
    if (hp !== undefined) {
      terms['host_stack_delivered'] = hp.rx_packets;
      extra.from_stack = hp.tx_packets;
      sources += hp.tx_packets;
    }
    let accounted = 0;
    for (const v of Object.values(terms)) accounted += v;
    const generated = this.pktgen.generated, clones = b?.flood_copies ?? 0;
    return { generated, clones, ...extra, terms, accounted, balanced: generated + clones + sources === accounted };
  }
}
