// The guest's network stack (net/, one instance per machine) above virtio_net: a MachineStack
// (net/core/machine-stack.ts: boot, Net, drops counted by reason, the run step of timers,
// NET_TX_SOFTIRQ and the applications, the setup module contract) with eth0 registered in it.
import { register_netdevice } from '../../net/core/dev.ts';
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
}

/** GuestNetSpec -> a running stack: the Net, eth0, and the setup module's app. */
export async function attachGuestStack(driver: VirtnetDriver, spec: GuestNetSpec): Promise<GuestStack> {
  const stack = new GuestStack(driver, { ...(spec.seed !== undefined ? { seed: spec.seed } : {}), ...(spec.ifname ? { ifname: spec.ifname } : {}) });
  if (spec.setup !== undefined) await stack.runSetup('guest', stack.dev, spec.setup, spec.setupData);
  return stack;
}
