// What the guest's stack (guest/virtio-net/stack.ts, above virtio_net's eth0) and the host's
// (host/net/host-stack.ts, behind the bridge's br0) have in common: a boot and a Net on a clock
// the machine's run loop drives, drops counted by reason, the setup module contract, and the run
// step besides NAPI: the timer softirq (clock.run_timers(): a worker that sleeps in Atomics.wait
// never returns to Node's event loop, so its timers fire only when the loop runs them),
// NET_TX_SOFTIRQ, then the applications' work.
//
// A setup module (a module URL in the machine's spec) is how a scenario puts protocols and
// applications on a stack without the machine knowing them: it exports
// `setup(ctx: StackSetupContext)`, which registers handlers (dev_add_pack, the IP layer's init),
// opens sockets, and may return a StackApp the loop polls.
import { BootState } from './boot-state.ts';
import type { Clock } from './clock.ts';
import { net_tx_action } from './dev.ts';
import type { NetDevice } from './netdevice.ts';
import { Net } from './net-namespace.ts';
import { RealClock } from './real-clock.ts';
import { drop_reason_name, set_skb_drop_hook } from './skbuff.ts';

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

/** Imports a setup module and returns its `setup` export (or its default export). */
export async function loadStackSetup(url: string): Promise<StackSetup> {
  const mod = (await import(url)) as { setup?: unknown; default?: unknown };
  const fn = typeof mod.setup === 'function' ? mod.setup : mod.default;
  if (typeof fn !== 'function') throw new TypeError(`${url}: no setup(ctx) export`);
  return fn as StackSetup;
}

export interface MachineStackOptions {
  /** Default: a RealClock (scenarios). Tests pass a VirtualClock. */
  clock?: Clock;
  seed?: number;
}

/** A machine's stack as its run loop sees it; the guest's and the host's add their device. */
export class MachineStack implements LoopStack {
  readonly boot: BootState;
  readonly net: Net;
  readonly drops = new SkbDropCounter();
  app: StackApp | undefined = undefined;
  /** Timer callbacks run by the loop. */
  timers_run = 0;
  private readonly clock: LoopClock;

  constructor(o: MachineStackOptions = {}) {
    this.clock = (o.clock ?? new RealClock()) as LoopClock;
    this.boot = new BootState({ clock: this.clock, ...(o.seed !== undefined ? { seed: o.seed } : {}) });
    this.net = new Net(this.boot);
    this.drops.install();
  }

  /** Timers due now, NET_TX_SOFTIRQ (what waited on a qdisc while the driver's ring was full), then the application; returns the work done. */
  run(): number {
    let work = 0;
    const run_timers = this.clock.run_timers;
    if (run_timers !== undefined) {
      const n = run_timers.call(this.clock);
      this.timers_run += n;
      work += n;
    }
    work += net_tx_action(this.net);
    const poll = this.app?.poll;
    if (poll !== undefined) work += poll.call(this.app);
    return work;
  }

  timersPending(): boolean {
    return (this.clock.pending_count ?? 0) > 0;
  }

  /** Runs a setup module on this stack with `dev` as the machine's device; its app is polled from then on. */
  async runSetup(machine: 'guest' | 'host', dev: NetDevice, url: string, data: unknown): Promise<void> {
    const setup = await loadStackSetup(url);
    const app = await setup({ machine, boot: this.boot, net: this.net, dev, data });
    if (app) this.app = app;
  }

  /** The device's statistics (when it has one), timers run, drops by reason, then the app's counters. */
  stackCounters(dev: NetDevice | undefined): Record<string, number> {
    const out: Record<string, number> = {};
    if (dev !== undefined) {
      const st = dev.stats;
      Object.assign(out, {
        stack_rx_packets: st.rx_packets, stack_rx_bytes: st.rx_bytes, stack_tx_packets: st.tx_packets, stack_tx_bytes: st.tx_bytes,
        stack_tx_dropped: st.tx_dropped, stack_qdisc_qlen: dev.qdisc.qlen, stack_rx_nohandler: st.rx_nohandler,
      });
    }
    out['stack_timers_run'] = this.timers_run;
    for (const [k, v] of Object.entries(this.drops.counters())) out['stack_' + k] = v;
    return { ...out, ...(this.app?.counters?.() ?? {}) };
  }

  counters(): Record<string, number> {
    return this.stackCounters(undefined);
  }
}
