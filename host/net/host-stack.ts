// The host's network stack (net/, one instance per machine) behind the bridge: a MachineStack
// (net/core/machine-stack.ts, the same as the guest's: boot, Net, drops counted by reason, the
// run step of timers, NET_TX_SOFTIRQ and the applications, the setup module contract) in which
// HostNet registers br0; the setup module runs once br0 is there.
import type { NetDevice } from '../../net/core/netdevice.ts';
import { dev_add_pack, type PacketType } from '../../net/core/dev.ts';
import { ETH_P_ALL, PACKET_OUTGOING, type SkBuff } from '../../net/core/skbuff.ts';
import { MachineStack, type StackApp, type StackSetup, type StackSetupContext } from '../../net/core/machine-stack.ts';

/** What the host worker is told about its stack (HostWorkerData.net). */
export interface HostNetSpec {
  /** Seeds the boot's PRNG; default from the OS. */
  seed?: number;
  /** br0's address (default BR0_DEFAULT_MAC). */
  mac?: string;
  /** URL (file://...) of a module exporting `setup(ctx)`; none: a bare stack. */
  setup?: string;
  /** Handed to setup as ctx.data. */
  setupData?: unknown;
}

/** The setup contract's types under the host's names (net/core/machine-stack.ts). */
export type HostStackSetupContext = StackSetupContext;
export type HostStackApp = StackApp;
export type HostStackSetup = StackSetup;

export class HostStack extends MachineStack {
  /** Set once HostNet registered br0 (HostStack.setup). */
  dev: NetDevice | undefined = undefined;

  /** Runs the setup module (after HostNet registered br0 in this Net). */
  async setup(dev: NetDevice, spec: HostNetSpec): Promise<void> {
    this.dev = dev;
    if (spec.setup === undefined) return;
    await this.runSetup('host', dev, spec.setup, spec.setupData);
  }

  override counters(): Record<string, number> {
    return this.stackCounters(this.dev);
  }

  /**
   * --pcap-at host-stack: an ETH_P_ALL tap on br0 (tcpdump -i br0): what the bridge hands the
   * stack before tc and the protocols, and what the stack transmits through br0. A tap does not
   * own the skb: it copies the frame (from mac_header on receive, where eth_type_trans left it;
   * from data on transmit, where the link header is) and returns.
   */
  addCaptureTap(capture: (src: Uint8Array, off: number, len: number) => void): PacketType {
    if (this.dev === undefined) throw new Error('HostStack.addCaptureTap: before setup (no br0 yet)');
    const pt: PacketType = {
      type: ETH_P_ALL,
      dev: this.dev,
      func(skb: SkBuff): number {
        const from = skb.pkt_type === PACKET_OUTGOING || skb.mac_header < 0 ? skb.data : skb.mac_header;
        if (skb.tail > from) capture(skb.head, from, skb.tail - from);
        return 0;
      },
    };
    dev_add_pack(this.net, pt);
    return pt;
  }
}
