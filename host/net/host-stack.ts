// The host's network stack (net/, one instance per machine) behind the bridge: a boot (clock,
// PRNG), a Net in which HostNet registers br0, drops counted by reason, and what the host loop
// does besides polling the NIC and the backlog: the timer softirq (clock.run_timers(), since the
// loop never returns to Node's event loop) and the applications' work.
//
// The same contract as the guest's (guest/virtio-net/stack.ts), repeated because host/ does not
// import guest/: a setup module (HostNetSpec.setup, a module URL) exports
// `setup(ctx: HostStackSetupContext)`, registers protocols and applications on ctx.net (its device
// is ctx.dev, br0), and may return a StackApp the loop polls.
import { BootState } from '../../net/core/boot-state.ts';
import { net_tx_action } from '../../net/core/dev.ts';
import type { Clock } from '../../net/core/clock.ts';
import { Net } from '../../net/core/net-namespace.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import { RealClock } from '../../net/core/real-clock.ts';
import { drop_reason_name, set_skb_drop_hook } from '../../net/core/skbuff.ts';

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

export interface HostStackSetupContext {
  machine: 'guest' | 'host';
  boot: BootState;
  net: Net;
  /** br0. */
  dev: NetDevice;
  data: unknown;
}

export interface HostStackApp {
  poll?(): number;
  counters?(): Record<string, number>;
}

export type HostStackSetup = (ctx: HostStackSetupContext) => HostStackApp | void | Promise<HostStackApp | void>;

type LoopClock = Clock & { run_timers?(): number; readonly pending_count?: number };

export class HostStack {
  readonly boot: BootState;
  readonly net: Net;
  app: HostStackApp | undefined = undefined;
  /** Set once HostNet registered br0 (HostStack.bind). */
  dev: NetDevice | undefined = undefined;
  timers_run = 0;
  drops_total = 0;
  readonly drops_by_reason = new Float64Array(128);
  private readonly clock: LoopClock;

  constructor(o: { clock?: Clock; seed?: number } = {}) {
    this.clock = (o.clock ?? new RealClock()) as LoopClock;
    this.boot = new BootState({ clock: this.clock, ...(o.seed !== undefined ? { seed: o.seed } : {}) });
    this.net = new Net(this.boot);
    set_skb_drop_hook((_skb, reason) => {
      this.drops_total++;
      this.drops_by_reason[reason & 127]!++;
    });
  }

  /** Timers due now, then the application; returns the work done. */
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

  /** Runs the setup module (after HostNet registered br0 in this Net). */
  async setup(dev: NetDevice, spec: HostNetSpec): Promise<void> {
    this.dev = dev;
    if (spec.setup === undefined) return;
    const mod = (await import(spec.setup)) as { setup?: unknown; default?: unknown };
    const fn = typeof mod.setup === 'function' ? mod.setup : mod.default;
    if (typeof fn !== 'function') throw new TypeError(`${spec.setup}: no setup(ctx) export`);
    const app = await (fn as HostStackSetup)({ machine: 'host', boot: this.boot, net: this.net, dev, data: spec.setupData });
    if (app) this.app = app;
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = { stack_timers_run: this.timers_run, stack_skb_drop_total: this.drops_total };
    const st = this.dev?.stats;
    if (st) {
      Object.assign(out, {
        stack_rx_packets: st.rx_packets, stack_rx_bytes: st.rx_bytes, stack_tx_packets: st.tx_packets, stack_tx_bytes: st.tx_bytes,
        stack_tx_dropped: st.tx_dropped, stack_qdisc_qlen: this.dev!.qdisc.qlen, stack_rx_nohandler: st.rx_nohandler,
      });
    }
    for (let r = 0; r < this.drops_by_reason.length; r++) {
      if (this.drops_by_reason[r]! > 0) out[`stack_skb_drop_${drop_reason_name(r)}`] = this.drops_by_reason[r]!;
    }
    return { ...out, ...(this.app?.counters?.() ?? {}) };
  }
}
