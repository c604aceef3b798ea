// tc on the host's own devices: a clsact qdisc with cls_bpf direct-action filters at ingress and
// egress of the NIC and the tap (the bridge's two ports), acted on as sch_handle_ingress /
// sch_handle_egress act in the kernel. The chain, its order (prio ascending, the newest program
// of a prio first), tcf_classify, cls_bpf_classify and `tc filter add/del/show` are net's
// (net/sched/cls-bpf.ts): each host device has a net NetDevice of its own name and ifindex, never
// registered in a Net, that only carries the clsact qdisc, and its hooks run on a PoolSkb pointed
// at the host's skb (tc-skb.ts). br0 is net's own device: its filters are attached there and run
// in net's receive and transmit paths, with the host stack's sockets.
//
// Where the hooks run (HostNet wires them): NIC ingress after the XDP program's PASS, before the
// bridge (Nic.netif_receive_skb); tap ingress on frames the guest sent, before the bridge's tap
// port (HostNet.tap_receive_skb); egress of either in its dev_queue_xmit, before the queue is
// picked and the driver transmits (devQueueXmit). Verdicts: OK, UNSPEC, PIPE, RECLASSIFY go on;
// SHOT frees (tc_shot); STOLEN, QUEUED, TRAP consume (tc_stolen); REDIRECT hands the skb, link
// header pushed back, to another host device by ifindex: its transmit path at once
// (__bpf_tx_skb -> dev_queue_xmit, its egress hook included), or with BPF_F_INGRESS its receive
// path later (__bpf_rx_skb -> netif_rx): the skb waits on the worker's backlog (netif-rx.ts)
// until HostNet polls it after the NAPI poll that queued it (process_backlog), then enters the
// target's ingress hook and the bridge or the host stack. A full backlog drops it
// (tc_backlog_dropped); no such device, no such path, a frame over the target's MTU, or more than
// XMIT_RECURSION_LIMIT nested transmit redirects drop it (tc_redirect_err). Nothing a program
// does throws out of the data path: a fault drops the skb and is counted.
import { ERRNO } from '../../bpf-vm/errno.ts';
import { BPF_F_INGRESS } from '../../bpf-vm/helpers/skb-helpers.ts';
import type { EngineName } from '../../bpf-vm/engines.ts';
import type { Program } from '../../bpf-vm/prog/program.ts';
import { BPF_PROG_TYPE, progTypeName } from '../../bpf-vm/prog/types.ts';
import { bpf_prog_get_id, bpf_prog_tag } from '../../net/core/bpf-show.ts';
import { bpf_redirect_info, XMIT_RECURSION_LIMIT } from '../../net/core/dev.ts';
import { NETDEV_TX_BUSY, NetDevice as NetNetDevice } from '../../net/core/netdevice.ts';
import {
  bpf_tc_attach, dev_clsact, qdisc_create_clsact, tc_filter_del, tc_filter_list, type ClsactQdisc, type ClsBpfProg, type TcDirection, type TcFilterSelector,
} from '../../net/sched/cls-bpf.ts';
import { TC_ACT } from '../../net/sched/pkt-cls.ts';
import { ETH_HLEN, META_STRIDE, PACKET_TYPE, SKB, SKB_HEAD_WORDS, skb_push, type PagePool } from '../../tun/index.ts';
import { HostNetError } from './errors.ts';
import { HostSoftnetBacklog, SOFTNET_DEFAULTS } from './netif-rx.ts';
import { HostTcNetHost } from './tc-net-host.ts';
import { PoolSkb, TcSkbState } from './tc-skb.ts';

export type { TcDirection } from '../../net/sched/cls-bpf.ts';

// Module constants: read once, not through the importing module's bindings on every packet.
const { TC_ACT_QUEUED, TC_ACT_REDIRECT, TC_ACT_SHOT, TC_ACT_STOLEN, TC_ACT_TRAP } = TC_ACT;

/** One direction of a host device's clsact qdisc: what happened to the skbs it saw. */
export class HostTcHookStats {
  packets = 0;
  shot = 0;
  stolen = 0;
  redirect = 0;
  /** Redirects that found no target, no path, or too deep a recursion: dropped. */
  redirect_err = 0;
  /** Classifications that threw (a bug, not a program fault: those are SHOT in cls_bpf). */
  faults = 0;
}

/** A redirect target: the device's paths for an skb whose data is at its MAC header. */
export interface HostTcTarget {
  name: string;
  mtu: number;
  /** __netif_receive_skb on the device (eth_type_trans included), or none: where the backlog hands the skb. */
  receive?: (h: number) => void;
  /** dev_queue_xmit on the device (its egress hook included). */
  transmit?: (h: number) => void;
}

/** A host device with tc hooks. */
export class HostTcDev {
  /** Carries the clsact qdisc and its chain (net's types); never registered, never transmits. */
  readonly shadow: NetNetDevice;
  readonly ingress = new HostTcHookStats();
  readonly egress = new HostTcHookStats();
  /** The shadow's clsact qdisc, made with it, so a packet reaches its hooks without a lookup. */
  readonly clsact: ClsactQdisc;

  constructor(readonly tc: HostTc, readonly name: string, readonly ifindex: number, readonly mtu: number) {
    this.shadow = new NetNetDevice({ name, mtu, ops: { ndo_start_xmit: () => NETDEV_TX_BUSY } });
    this.shadow.ifindex = ifindex;
    qdisc_create_clsact(this.shadow);
    this.clsact = dev_clsact(this.shadow)!;
  }

  get ingressActive(): boolean {
    return this.shadow.tc_ingress.length !== 0;
  }

  get egressActive(): boolean {
    return this.shadow.tc_egress.length !== 0;
  }

  /** skb h on its way in (data at the network header): true to go on, false when tc took it. */
  sch_handle_ingress(h: number): boolean {
    return this.tc.sch_handle(this, h, true);
  }

  /** skb h on its way out (data at the MAC header): true to go on, false when tc took it. */
  sch_handle_egress(h: number): boolean {
    return this.tc.sch_handle(this, h, false);
  }
}

export interface HostTcAttachOptions {
  /** `prio`; 0 or absent: tc's automatic priority. */
  prio?: number;
  handle?: number;
  /** Host order; ETH_P_ALL by default. */
  protocol?: number;
  /** TCA_BPF_NAME ("obj.o:[section]"); the program's name by default. */
  name?: string;
  engine?: EngineName;
  replace?: boolean;
  /** Verify at attach (default true); false runs the program unverified (tests of faults). */
  verify?: boolean;
}

export interface HostTcFilterReport {
  prio: number;
  handle: number;
  protocol: number;
  /** TCA_BPF_NAME. */
  name: string;
  /** The program's id and tag, as `bpftool net` and `tc filter show` print them. */
  id: number;
  tag: string;
  direct_action: boolean;
  prog: string;
  section: string;
  engine: string;
  runs: number;
  shot: number;
  redirect: number;
  faults: number;
}

export interface HostTcHookReport {
  dev: string;
  ifindex: number;
  direction: TcDirection;
  packets: number;
  shot: number;
  stolen: number;
  redirect: number;
  redirect_err: number;
  faults: number;
  filters: HostTcFilterReport[];
}

/** Names a device is attached by: its own, and the roles the run options use. */
const ROLE_NAMES: Readonly<Record<string, 'nic' | 'tap' | 'br0'>> = {
  'nic': 'nic', 'br-port-nic': 'nic', 'tap': 'tap', 'br-port-tap': 'tap', 'br0': 'br0', 'br-port-br0': 'br0',
};

export interface HostTcOptions {
  /** net.core.netdev_max_backlog of the worker's backlog (default 1000). */
  netdev_max_backlog?: number;
}

export class HostTc {
  readonly state: TcSkbState;
  readonly skb: PoolSkb;
  readonly netHost = new HostTcNetHost();
  /** The worker's netif_rx backlog: BPF_F_INGRESS redirects wait here for process_backlog. */
  readonly backlog: HostSoftnetBacklog;
  /** Ledger terms: skbs tc ended. */
  shot = 0;
  stolen = 0;
  redirect_err = 0;
  private readonly devs = new Map<string, HostTcDev>();
  private readonly byRole = new Map<'nic' | 'tap', HostTcDev>();
  /** br0, net's device (its filters run in net). */
  private br0: NetNetDevice | undefined = undefined;
  private readonly targets: (HostTcTarget | undefined)[] = [];
  /** dev_xmit_recursion: transmit redirects nested in this one. */
  private depth = 0;
  private readonly backlogReceive = (h: number, ifindex: number): void => this.targets[ifindex]!.receive!(h);

  constructor(readonly pool: PagePool, o: HostTcOptions = {}) {
    const fp = pool.pool;
    this.state = new TcSkbState(fp.frames + fp.scratch);
    this.skb = new PoolSkb(fp, this.state);
    this.backlog = new HostSoftnetBacklog(o.netdev_max_backlog ?? SOFTNET_DEFAULTS.netdev_max_backlog);
  }

  /** A host device with hooks, by name and role ('nic' or 'tap'). */
  addDevice(role: 'nic' | 'tap', name: string, ifindex: number, mtu: number): HostTcDev {
    if (this.devs.has(name)) throw new HostNetError('EEXIST', `host tc: ${name} already has hooks`);
    const d = new HostTcDev(this, name, ifindex, mtu);
    this.devs.set(name, d);
    this.byRole.set(role, d);
    return d;
  }

  /** br0: net's device; its filters are net's (attach puts them there). */
  setBridgeDevice(dev: NetNetDevice): void {
    this.br0 = dev;
  }

  /** Where a redirect to `ifindex` goes. */
  setTarget(ifindex: number, t: HostTcTarget): void {
    while (this.targets.length <= ifindex) this.targets.push(undefined);
    this.targets[ifindex] = t;
  }

  /** The device a name means: its own name or a role ('nic', 'tap', 'br-port-nic', 'br-port-tap', 'br0'). */
  device(name: string): HostTcDev | NetNetDevice {
    const own = this.devs.get(name);
    if (own !== undefined) return own;
    const role = ROLE_NAMES[name];
    if (role === 'br0' || (this.br0 !== undefined && name === this.br0.name)) {
      if (this.br0 === undefined) throw new HostNetError('ENOENT', `host tc: no ${name} (br0 exists with a host stack on the bridge)`);
      return this.br0;
    }
    const d = role === undefined ? undefined : this.byRole.get(role);
    if (d === undefined) {
      throw new HostNetError('ENOENT', `host tc: no device ${JSON.stringify(name)} (have ${[...this.devs.keys(), ...Object.keys(ROLE_NAMES)].join(', ')})`);
    }
    return d;
  }

  /**
   * `tc filter add dev X ingress|egress bpf da obj O sec S` (the clsact qdisc made if missing):
   * the filter, or a HostNetError: EINVAL for a program that is not SCHED_CLS or options tc
   * refuses, EEXIST for a handle in use. The program is verified here (a refusal throws the
   * verifier's error).
   */
  attach(dev: string, dir: TcDirection, prog: Program, o: HostTcAttachOptions = {}): ClsBpfProg {
    if (dir !== 'ingress' && dir !== 'egress') throw new HostNetError('EINVAL', `host tc: direction ${JSON.stringify(dir)} (ingress or egress)`);
    if (prog.type !== BPF_PROG_TYPE.BPF_PROG_TYPE_SCHED_CLS) {
      throw new HostNetError('EINVAL', `host tc: ${prog.name} [${prog.section}] is ${progTypeName(prog.type)}; cls_bpf takes SCHED_CLS programs`);
    }
    const d = this.device(dev);
    const net = d instanceof HostTcDev ? d.shadow : d;
    // Host devices' programs see no sockets (HostTcNetHost); br0's see the host stack's (net's default).
    const r = bpf_tc_attach(net, dir, prog, { ...o, ...(d instanceof HostTcDev ? { netHost: this.netHost } : {}) });
    if (typeof r === 'number') {
      throw new HostNetError(r === -ERRNO.EEXIST ? 'EEXIST' : 'EINVAL', `host tc: filter add dev ${net.name} ${dir} ${o.name ?? prog.name}: errno ${-r}`);
    }
    return r;
  }

  /** `tc filter del dev X ingress|egress [prio P [handle H]]`; 0 or a negative errno. */
  detach(dev: string, dir: TcDirection, sel: TcFilterSelector = {}): number {
    const d = this.device(dev);
    return tc_filter_del(d instanceof HostTcDev ? d.shadow : d, dir, sel);
  }

  /**
   * sch_handle_ingress / sch_handle_egress for skb h on d: true to go on; false when tc took it
   * (freed, consumed or redirected).
   */
  sch_handle(d: HostTcDev, h: number, ingress: boolean): boolean {
    const st = ingress ? d.ingress : d.egress;
    st.packets++;
    const act = this.classify(d, ingress, h);
    switch (act) {
      case TC_ACT_REDIRECT: {
        st.redirect++;
        const ifindex = bpf_redirect_info.tgt_index, flags = bpf_redirect_info.flags;
        bpf_redirect_info.tgt_index = 0;
        bpf_redirect_info.flags = 0;
        // bpf_push_mac_rcsum: the link header goes back in front at ingress.
        if (ingress) skb_push(this.pool.pool.meta, h, this.pool.pool.skb[h * SKB_HEAD_WORDS + SKB.MAC_LEN]!);
        if (!this.skb_do_redirect(h, ifindex, flags)) st.redirect_err++;
        return false;
      }
      case TC_ACT_SHOT:
        st.shot++;
        this.shot++;
        this.pool.free(h);
        return false;
      case TC_ACT_STOLEN:
      case TC_ACT_QUEUED:
      case TC_ACT_TRAP:
        st.stolen++;
        this.stolen++;
        this.pool.free(h);
        return false;
      default:
        return true;
    }
  }

  /**
   * The device's clsact hook on the skb the adapter is pointed at. cls_bpf reads only BpfSkb fields
   * and turns a program's fault into SHOT (counted in the filter's stats); anything else thrown is
   * a bug and is not hidden.
   */
  private classify(d: HostTcDev, ingress: boolean, h: number): number {
    const skb = this.skb;
    skb.load(h);
    const act = (ingress ? d.clsact.ingress : d.clsact.egress).run(skb);
    skb.store();
    return act;
  }

  /**
   * process_backlog, the backlog's NAPI poll: up to `quota` skbs that BPF_F_INGRESS redirects
   * queued, oldest first, each into its device's receive path (which may queue more, taken
   * later). HostNet runs it after each NAPI poll, as net_rx_action polls the backlog's instance
   * after the one that scheduled it. Returns how many it took.
   */
  process_backlog(quota: number = SOFTNET_DEFAULTS.dev_rx_weight): number {
    return this.backlog.process_backlog(quota, this.backlogReceive);
  }

  /**
   * skb_do_redirect for skb h (data at its MAC header): true if handed on or queued; false when
   * dropped (tc_redirect_err, or tc_backlog_dropped for a full backlog).
   */
  private skb_do_redirect(h: number, ifindex: number, flags: number): boolean {
    const fp = this.pool.pool, b = h * SKB_HEAD_WORDS;
    const t = this.targets[ifindex];
    const ingress = (flags & BPF_F_INGRESS) !== 0;
    const path = t === undefined ? undefined : ingress ? t.receive : t.transmit;
    const mac = fp.skb[b + SKB.MAC_HEADER]!;
    // __bpf_redirect_common: a link header to hand on.
    if (path === undefined || t === undefined || mac === 0 || fp.meta[META_STRIDE * h + 1] === 0) return this.redirectDrop(h);
    fp.skb[b + SKB.DEV] = ifindex;
    if (ingress) {
      // ____dev_forward_skb: is_skb_forwardable, then skb_scrub_packet within the netns (the mark stays).
      if (fp.meta[META_STRIDE * h + 1]! > t.mtu + ETH_HLEN) return this.redirectDrop(h);
      fp.skb[b + SKB.PKT_TYPE] = PACKET_TYPE.PACKET_HOST;
      fp.skb[b + SKB.SKB_IIF] = 0;
      this.state.priority[h] = 0;
      // netif_rx: received later, from the backlog; NET_RX_DROP when it is full (not a redirect error).
      if (!this.backlog.enqueue_to_backlog(h, ifindex)) this.pool.free(h);
      return true;
    }
    // dev_xmit_recursion: a transmit redirect runs inside its caller, so nesting is bounded.
    if (this.depth >= XMIT_RECURSION_LIMIT) return this.redirectDrop(h);
    this.depth++;
    try {
      path(h);
    } finally {
      this.depth--;
    }
    return true;
  }

  private redirectDrop(h: number): false {
    this.redirect_err++;
    this.pool.free(h);
    return false;
  }

  /** Per hook with filters: its counters and filters (`tc -s filter show`), br0's from net. */
  report(): HostTcHookReport[] {
    const out: HostTcHookReport[] = [];
    const hook = (net: NetNetDevice, dir: TcDirection, st: HostTcHookStats | undefined): void => {
      const list = tc_filter_list(net, dir);
      if (list.length === 0 && (st === undefined || st.packets === 0)) return;
      const filters = list.map((f): HostTcFilterReport => ({
        prio: f.prio, handle: f.handle, protocol: f.protocol, name: f.name, id: bpf_prog_get_id(f.prog), tag: bpf_prog_tag(f.prog),
        direct_action: f.direct_action, prog: f.prog.name, section: f.prog.section,
        engine: f.filter.runner.engineName, runs: f.filter.stats.runs, shot: f.filter.stats.shot, redirect: f.filter.stats.redirect,
        faults: f.filter.stats.faults,
      }));
      const sum = (k: 'shot' | 'redirect' | 'faults'): number => filters.reduce((a, f) => a + f[k], 0);
      out.push(st !== undefined
        ? { dev: net.name, ifindex: net.ifindex, direction: dir, packets: st.packets, shot: st.shot, stolen: st.stolen, redirect: st.redirect,
          redirect_err: st.redirect_err, faults: st.faults, filters }
        // br0's hooks are net's: the filters' counters (net counts the rest in its drop reasons).
        : { dev: net.name, ifindex: net.ifindex, direction: dir, packets: dev_clsact(net)?.stats.packets ?? 0, shot: sum('shot'), stolen: 0,
          redirect: sum('redirect'), redirect_err: 0, faults: sum('faults'), filters });
    };
    for (const d of this.devs.values()) {
      hook(d.shadow, 'ingress', d.ingress);
      hook(d.shadow, 'egress', d.egress);
    }
    if (this.br0 !== undefined) {
      hook(this.br0, 'ingress', undefined);
      hook(this.br0, 'egress', undefined);
    }
    return out;
  }

  /** Counters for the host's shared counters: tc_<dev>_<dir>_<what>, the ledger's terms, and the backlog's (backlog_<what>). */
  counters(): Record<string, number> {
    const out: Record<string, number> = { shot: this.shot, stolen: this.stolen, redirect_err: this.redirect_err };
    for (const [k, v] of Object.entries(this.backlog.counters())) out[`backlog_${k}`] = v;
    for (const d of this.devs.values()) {
      for (const [dir, st] of [['ingress', d.ingress], ['egress', d.egress]] as const) {
        for (const [k, v] of Object.entries(st)) out[`${d.name}_${dir}_${k}`] = v as number;
      }
    }
    return out;
  }
}
