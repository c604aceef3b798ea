// The guest's network stack (net/, one instance per machine) above virtio_net: a boot (clock,
// PRNG), a Net, eth0 registered in it, drops counted by reason, and what the guest's run loop
// does besides NAPI: the timer softirq (clock.run_timers(): a worker that sleeps in Atomics.wait
// never returns to Node's event loop, so its timers fire only when the loop runs them) and the
// applications' work (a setup module's poll()).
//
// A setup module (GuestNetSpec.setup, a module URL) is how a scenario puts protocols and
// applications on the stack without this package knowing them: it exports
// `setup(ctx: StackSetupContext)`, which registers handlers (dev_add_pack, the IP layer's init),
// opens sockets, and may return a StackApp the loop polls.
import { BootState } from '../../net/core/boot-state.ts';
import type { Clock } from '../../net/core/clock.ts';
import { net_tx_action, register_netdevice } from '../../net/core/dev.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import { Net } from '../../net/core/net-namespace.ts';
import { RealClock } from '../../net/core/real-clock.ts';
import { drop_reason_name, set_skb_drop_hook } from '../../net/core/skbuff.ts';
import { virtnet_netdev, type VirtnetNetDevice } from './start-xmit.ts';
import type { VirtnetDriver } from './virtnet.ts';

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

export interface StackSetupContext {
  machine: 'guest' | 'host';
  boot: BootState;
  net: Net;
  /** The machine's device: the guest's eth0, the host's bridge port br0. */
  dev: NetDevice;
  data: unknown;
}

/** What a setup module may give back: work for the run loop, and counters for the report. */
export interface StackApp {
  /** Called every loop round (after the timers); returns how much it did (0: nothing, the loop may sleep). */
  poll?(): number;
  /** Extra counters, merged into the worker's final counters (names are the app's). */
  counters?(): Record<string, number>;
}

export type StackSetup = (ctx: StackSetupContext) => StackApp | void | Promise<StackApp | void>;

/** A clock the loop can drive: RealClock's run_timers and the pending timer count. */
type LoopClock = Clock & { run_timers?(): number; readonly pending_count?: number };

/** The hooks a machine's run loop calls (GuestLoop, HostLoop). */
export interface LoopStack {
  /** Timers due now, then the applications; returns the work done. */
  run(): number;
  /** Whether timers are pending: the loop then sleeps at most a jiffy. */
  timersPending(): boolean;
  counters(): Record<string, number>;
}

/** Counts every kfree_skb of this worker by reason (the drop monitor), for the run's accounting. */
export class SkbDropCounter {
  readonly by_reason = new Float64Array(128);
  total = 0;

  install(): void {
    set_skb_drop_hook((_skb, reason) => {
      this.total++;
      this.by_reason[reason & 127]!++;
    });
  }

  /** skb_drop_<REASON> for every reason seen, and skb_drop_total. */
  counters(): Record<string, number> {
    const out: Record<string, number> = { skb_drop_total: this.total };
    for (let r = 0; r < this.by_reason.length; r++) if (this.by_reason[r]! > 0) out[`skb_drop_${drop_reason_name(r)}`] = this.by_reason[r]!;
    return out;
  }
}

export interface GuestStackOptions {
  /** Default: a RealClock (scenarios). Tests pass a VirtualClock. */
  clock?: Clock;
  seed?: number;
  ifname?: string;
}

export class GuestStack implements LoopStack {
  readonly boot: BootState;
  readonly net: Net;
  readonly dev: VirtnetNetDevice;
  readonly drops = new SkbDropCounter();
  app: StackApp | undefined = undefined;
  /** Timer callbacks run by the loop. */
  timers_run = 0;
  private readonly clock: LoopClock;

  constructor(driver: VirtnetDriver, o: GuestStackOptions = {}) {
    this.clock = (o.clock ?? new RealClock()) as LoopClock;
    this.boot = new BootState({ clock: this.clock, ...(o.seed !== undefined ? { seed: o.seed } : {}) });
    this.net = new Net(this.boot);
    this.dev = virtnet_netdev(driver, o.ifname ?? 'eth0');
    register_netdevice(this.net, this.dev);
    this.drops.install();
  }

  run(): number {
    let work = 0;
    const run_timers = this.clock.run_timers;
    if (run_timers !== undefined) {
      const n = run_timers.call(this.clock);
      this.timers_run += n;
      work += n;
    }
    // NET_TX_SOFTIRQ: what waited on a qdisc while the driver's ring was full.
    work += net_tx_action(this.net);
    const poll = this.app?.poll;
    if (poll !== undefined) work += poll.call(this.app);
    return work;
  }

  timersPending(): boolean {
    return (this.clock.pending_count ?? 0) > 0;
  }

  counters(): Record<string, number> {
    const st = this.dev.stats;
    return {
      stack_rx_packets: st.rx_packets, stack_rx_bytes: st.rx_bytes, stack_tx_packets: st.tx_packets, stack_tx_bytes: st.tx_bytes,
      stack_tx_dropped: st.tx_dropped, stack_qdisc_qlen: this.dev.qdisc.qlen, stack_rx_nohandler: st.rx_nohandler, stack_timers_run: this.timers_run,
      ...prefixed('stack_', this.drops.counters()),
      ...(this.app?.counters?.() ?? {}),
    };
  }
}

/** Imports a setup module and returns its `setup` export. */
export async function loadStackSetup(url: string): Promise<StackSetup> {
  const mod = (await import(url)) as { setup?: unknown; default?: unknown };
  const fn = typeof mod.setup === 'function' ? mod.setup : mod.default;
  if (typeof fn !== 'function') throw new TypeError(`${url}: no setup(ctx) export`);
  return fn as StackSetup;
}

/** GuestNetSpec -> a running stack: the Net, eth0, and the setup module's app. */
export async function attachGuestStack(driver: VirtnetDriver, spec: GuestNetSpec): Promise<GuestStack> {
  const stack = new GuestStack(driver, { ...(spec.seed !== undefined ? { seed: spec.seed } : {}), ...(spec.ifname ? { ifname: spec.ifname } : {}) });
  if (spec.setup !== undefined) {
    const setup = await loadStackSetup(spec.setup);
    const app = await setup({ machine: 'guest', boot: stack.boot, net: stack.net, dev: stack.dev, data: spec.setupData });
    if (app) stack.app = app;
  }
  return stack;
}

function prefixed(p: string, r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) out[p + k] = v;
  return out;
}
