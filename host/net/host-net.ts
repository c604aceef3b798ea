// The host network of the benchmark, composed for the host worker: pktgen on the far end of the
// wire, the NIC's receive path, and the tap's producer side. Case 1: the NIC's XDP program
// (redirect.o) XDP_REDIRECTs every frame through a DEVMAP to the tap, which takes bulks through
// tun_xdp_xmit. Case 2: the NIC passes frames up the stack into a bridge whose other port is the
// tap, which takes them one by one through tun_net_xmit.
import { BPF_MAP_TYPE, loadObjectFile, XdpProgramRunner, type XdpRunnerOptions } from '../../bpf-vm/index.ts';
import type { PagePool, PagePoolAccounting, TunXmit, TunXmitStats } from '../../tun/index.ts';
import { Bridge, type BridgeStats } from './bridge.ts';
import { HostNetError } from './errors.ts';
import { NetDevices, tapDevice } from './netdev.ts';
import { Nic, type NicStats } from './nic.ts';
import { Pktgen, type PktgenOptions, type PktgenStats } from './pktgen.ts';

export type HostNetCase = 'xdp-redirect' | 'bridge';

export const HOST_NET_DEFAULTS = {
  nicIfindex: 2,
  tapIfindex: 3,
  nicName: 'eth0',
  tapName: 'tap0',
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
}

export interface HostNetStats {
  pktgen: PktgenStats;
  nic: NicStats;
  bridge: BridgeStats | undefined;
  tap: TunXmitStats;
  /** Where the frames are, and how often the allocator went to the recycle ring and what it brought back. */
  pool: PagePoolAccounting & { refills: number; recycled: number; alloc_slow: number };
}

/** generated (+ bridge clones) = every way a frame ended on the host side, term by term. */
export interface HostNetConservation {
  generated: number;
  clones: number;
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
    this.pktgen = new Pktgen(opts.pktgen);
    this.nic = new Nic({ name: HOST_NET_DEFAULTS.nicName, ifindex: nicIfindex, pool: this.pool, wire: this.pktgen, devices: this.devices, budget: opts.budget });
    const tapDev = tapDevice(HOST_NET_DEFAULTS.tapName, this.tap, this.tapIfindex);
    this.devices.register(nicIfindex, this.nic);
    this.devices.register(this.tapIfindex, tapDev);
    if (opts.case === 'bridge') {
      this.bridge = new Bridge(this.pool);
      const nicPort = this.bridge.addPort(this.nic);
      this.bridge.addPort(tapDev);
      this.nic.stack = this.bridge.input(nicPort);
    } else {
      this.bridge = undefined;
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

  /** One NAPI poll of the NIC; returns the frames that came off the wire. */
  poll(): number {
    return this.nic.napi_poll();
  }

  stats(): HostNetStats {
    return {
      pktgen: this.pktgen.stats(),
      nic: this.nic.stats(),
      bridge: this.bridge?.stats(),
      tap: this.tap.stats(),
      pool: { ...this.pool.accounting(), refills: this.pool.refills, recycled: this.pool.recycled, alloc_slow: this.pool.alloc_slow },
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
    let accounted = 0;
    for (const v of Object.values(terms)) accounted += v;
    const generated = this.pktgen.generated, clones = b?.flood_copies ?? 0;
    return { generated, clones, terms, accounted, balanced: generated + clones === accounted };
  }
}
