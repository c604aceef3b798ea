// The host's network devices by ifindex, as dev_get_by_index resolves them: what a DEVMAP entry's
// ifindex turns into when the NIC's program redirects a frame, and what a bridge port transmits on.
import type { TunXmit } from '../../tun/index.ts';
import { HostNetError } from './errors.ts';
import type { HostTcDev } from './tc.ts';

/** The two ways frames leave through a device. Both take ownership of the frames. */
export interface NetDevice {
  readonly name: string;
  /** dev->ifindex and dev->mtu (ETH_DATA_LEN when absent): what the bridge forwards to and checks against. */
  readonly ifindex?: number;
  readonly mtu?: number;
  /** ndo_select_queue: the transmit queue for an skb (queue 0 when absent). */
  ndo_select_queue?(h: number): number;
  /** ndo_xdp_xmit: a bulk of redirected frames; returns how many were queued (the device frees the rest). `flags`: XDP_XMIT. */
  ndo_xdp_xmit?(frames: Uint32Array, n: number, flags: number): number;
  /** ndo_start_xmit: one skb. */
  ndo_start_xmit?(h: number): void;
  /**
   * The bridge's own device (br0, the host stack): it gets a flooded frame only when the frame is
   * for a group address, as br_flood passes unknown unicast up only to a promiscuous bridge.
   */
  readonly bridgeLocal?: boolean;
  /** Its clsact hooks (tc.ts), once HostNet.enableTc gave it some: dev_queue_xmit runs the egress one. */
  tc?: HostTcDev;
}

/** The tap as a device: redirected bulks go to tun_xdp_xmit, skbs to tun_net_xmit after tun_select_queue. */
export function tapDevice(name: string, tap: TunXmit, ifindex?: number): NetDevice {
  return {
    name,
    ifindex,
    ndo_select_queue: (h) => tap.tun_select_queue(h),
    ndo_xdp_xmit: (frames, n, flags) => tap.tun_xdp_xmit(frames, n, flags),
    ndo_start_xmit: (h) => { tap.tun_net_xmit(h); },
  };
}

const MAX_IFINDEX = 1 << 16;

export class NetDevices {
  private readonly byIndex: (NetDevice | undefined)[] = [];

  register(ifindex: number, dev: NetDevice): void {
    if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex >= MAX_IFINDEX) throw new HostNetError('EINVAL', `ifindex ${ifindex} (1..${MAX_IFINDEX - 1})`);
    if (this.byIndex[ifindex] !== undefined) throw new HostNetError('EEXIST', `ifindex ${ifindex} is ${this.byIndex[ifindex]!.name}`);
    while (this.byIndex.length <= ifindex) this.byIndex.push(undefined);
    this.byIndex[ifindex] = dev;
  }

  unregister(ifindex: number): void {
    if (this.byIndex[ifindex] === undefined) throw new HostNetError('ENOENT', `no device with ifindex ${ifindex}`);
    this.byIndex[ifindex] = undefined;
  }

  /** The device, or undefined (a DEVMAP entry naming a device that does not exist). */
  get(ifindex: number): NetDevice | undefined {
    return this.byIndex[ifindex];
  }
}
