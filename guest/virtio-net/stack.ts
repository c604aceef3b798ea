// The guest's network stack (net/, one instance per machine) above virtio_net: a MachineStack
// (net/core/machine-stack.ts: boot, Net, drops counted by reason, the run step of timers,
// NET_TX_SOFTIRQ and the applications, the setup module contract) with eth0 registered in it.
import { dev_add_pack, register_netdevice, type PacketType } from '../../net/core/dev.ts';
import { ETH_P_ALL, PACKET_OUTGOING, type SkBuff } from '../../net/core/skbuff.ts';
import { MachineStack, type MachineStackOptions } from '../../net/core/machine-stack.ts';
import { virtnet_netdev, type VirtnetNetDevice } from './start-xmit.ts';
import type { VirtnetDriver } from './virtnet.ts';

export {
  SkbDropCounter, loadStackSetup, type LoopStack, type StackApp, type StackSetup, type StackSetupContext,
} from '../../net/core/machine-stack.ts';

/** What the guest worker is told about its stack (GuestWorkerData.net). */
export interface GuestNetSpec {
  /** Seeds the boot's PRNG (hash secrets, ISNs); default from the OS. */
  seed?: number;
  /** The device's name; default eth0. */
  ifname?: string;
  /** URL (file://...) of a module exporting `setup(ctx: StackSetupContext)`; none: a bare stack. */
  setup?: string;
  /** Handed to setup as ctx.data (structured-clone friendly). */
  setupData?: unknown;
}

export interface GuestStackOptions extends MachineStackOptions {
  ifname?: string;
}

export class GuestStack extends MachineStack {
  readonly dev: VirtnetNetDevice;

  constructor(driver: VirtnetDriver, o: GuestStackOptions = {}) {
    super(o);
    this.dev = virtnet_netdev(driver, o.ifname ?? 'eth0');
    register_netdevice(this.net, this.dev);
  }

  override counters(): Record<string, number> {
    return this.stackCounters(this.dev);
  }

  /**
   * --pcap-at guest-stack: an ETH_P_ALL tap on eth0 (what tcpdump -i eth0 sees): received frames
   * before tc and the protocols, transmitted ones as they go to the driver.
   */
  addCaptureTap(capture: (src: Uint8Array, off: number, len: number) => void): PacketType {
    const pt = stackCaptureTap(this.dev, capture);
    dev_add_pack(this.net, pt);
    return pt;
  }
}

/**
 * A packet tap (ETH_P_ALL) on dev that copies each frame into `capture`. A tap does not own the
 * skb: it copies the bytes and returns. Received skbs have data past the link header (eth_type_trans),
 * so the frame starts at mac_header; outgoing ones have data at the link header, and their
 * mac_header may be stale, so the frame starts at data.
 */
export function stackCaptureTap(dev: PacketType['dev'], capture: (src: Uint8Array, off: number, len: number) => void): PacketType {
  return {
    type: ETH_P_ALL,
    dev,
    func(skb: SkBuff): number {
      const from = skb.pkt_type === PACKET_OUTGOING || skb.mac_header < 0 ? skb.data : skb.mac_header;
      if (skb.tail > from) capture(skb.head, from, skb.tail - from);
      return 0;
    },
  };
}

/** GuestNetSpec -> a running stack: the Net, eth0, and the setup module's app. */
export async function attachGuestStack(driver: VirtnetDriver, spec: GuestNetSpec): Promise<GuestStack> {
  const stack = new GuestStack(driver, { ...(spec.seed !== undefined ? { seed: spec.seed } : {}), ...(spec.ifname ? { ifname: spec.ifname } : {}) });
  if (spec.setup !== undefined) await stack.runSetup('guest', stack.dev, spec.setup, spec.setupData);
  return stack;
}
