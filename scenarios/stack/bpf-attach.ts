// BPF programs a network scenario attaches to a machine's stack, by object and section (as `tc
// filter add ... bpf da obj O sec S`, a netns link for SK_LOOKUP, SO_ATTACH_BPF on the
// application's socket), the map entries user space writes before traffic starts, and the
// tubular-like dispatcher with its bindings. Applied in the machine's worker by its setup module
// (machine-setup.ts) once the application's socket exists; what is attached and the maps are
// reported with the stack's report, as `bpftool net` and `bpftool map dump` show them.
import { toHex } from '../../bpf-vm/hex.ts';
import { mapUpdateHex } from '../../bpf-vm/maps/update-hex.ts';
import type { EngineName } from '../../bpf-vm/engines.ts';
import { dumpMap } from '../../bpf-vm/maps/dump.ts';
import type { BpfMap } from '../../bpf-vm/maps/map.ts';
import { mapTypeName } from '../../bpf-vm/maps/names.ts';
import { loadObjectFile, type Collection } from '../../bpf-vm/prog/collection.ts';
import { SkLookupProgramRunner } from '../../bpf-vm/prog/sk-lookup-runner.ts';
import { bpf_net_show_text } from '../../net/core/bpf-show.ts';
import { net_bpf_host } from '../../net/core/filter.ts';
import type { Net } from '../../net/core/net-namespace.ts';
import type { NetDevice } from '../../net/core/netdevice.ts';
import { netns_bpf_link_create } from '../../net/core/sk-lookup.ts';
import { sk_attach_bpf } from '../../net/core/sk-filter.ts';
import type { Sock } from '../../net/core/sock.ts';
import { qdisc_create_clsact, dev_clsact, tc_filter_add, type TcDirection } from '../../net/sched/cls-bpf.ts';
import { Dispatcher } from '../dispatch/dispatcher.ts';
import type { DispatchMetrics } from '../dispatch/metrics.ts';
import { bindingText, type DispatchProtocol } from '../dispatch/binding.ts';

/** One map entry written from user space before the run (`bpftool map update ... key hex ... value hex`). */
export interface MapInit {
  map: string;
  /** Hex bytes, e.g. "06 00 00 50" or "06000050". */
  key: string;
  value: string;
}

export type BpfAttachSpec =
  | { kind: 'tc'; direction: TcDirection; object: string; section?: string; prio?: number; maps?: MapInit[] }
  | { kind: 'sk_lookup'; object: string; section?: string; maps?: MapInit[] }
  /** SO_ATTACH_BPF on the application's socket. */
  | { kind: 'socket_filter'; object: string; section?: string; maps?: MapInit[] }
  /** The dispatcher (scenarios/sk/dispatch.o) with bindings to the application's socket, labelled `label`. */
  | { kind: 'dispatcher'; label: string; bindings: { protocol: DispatchProtocol; prefix: string; port: number }[] };

export interface BpfAttachReport {
  /** `bpftool net` of the machine's netns. */
  net: string;
  /** Every attached object's maps: `bpftool map dump` entries (hex), by map name. */
  maps: Record<string, { type: string; entries: { key: string; value: string }[] }>;
  /** The dispatcher's state as `tubectl bindings` / `tubectl list` / `tubectl metrics` show it. */
  dispatcher?: {
    metrics: DispatchMetrics;
    bindings: string[];
    destinations: { label: string; family: 4 | 6; protocol: DispatchProtocol; id: number; cookie: string | null; lookups: number; missing_socket: number; bad_socket: number }[];
  };
}

function check(r: number | object, what: string): void {
  if (typeof r === 'number' && r < 0) throw new Error(`bpf attach: ${what}: errno ${-r}`);
}

function applyMapInits(coll: Collection, inits: readonly MapInit[] | undefined, what: string): void {
  for (const i of inits ?? []) {
    const m = coll.maps.get(i.map);
    if (m === undefined) throw new Error(`bpf attach: ${what} has no map ${i.map} (have ${[...coll.maps.keys()].join(', ')})`);
    try {
      mapUpdateHex(m, i.key, i.value);
    } catch (e) {
      throw new Error(`bpf attach: ${what}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** What a machine attached: the objects' maps, kept for the report. */
export class BpfAttachments {
  private readonly maps = new Map<string, BpfMap>();
  private dispatcher: Dispatcher | undefined;

  constructor(private readonly net: Net, private readonly engine?: EngineName) {}

  /** Attaches one spec; `app` is the application's socket (socket filters and the dispatcher need it). */
  attach(spec: BpfAttachSpec, dev: NetDevice, app: Sock | undefined): void {
    const engine = this.engine !== undefined ? { engine: this.engine } : {};
    if (spec.kind === 'dispatcher') {
      if (app === undefined) throw new Error('bpf attach: the dispatcher needs the application\'s socket');
      this.dispatcher ??= new Dispatcher(this.net, engine);
      for (const b of spec.bindings) this.dispatcher.addBinding({ ...b, label: spec.label });
      this.dispatcher.registerSocket(spec.label, app);
      for (const [n, m] of this.dispatcher.maps) this.maps.set(n, m);
      return;
    }
    const coll = loadObjectFile(spec.object);
    const prog = coll.program(spec.section);
    applyMapInits(coll, spec.maps, spec.object);
    for (const [n, m] of coll.maps) this.maps.set(n, m);
    switch (spec.kind) {
      case 'tc':
        if (dev_clsact(dev) === undefined) check(qdisc_create_clsact(dev), `tc qdisc add dev ${dev.name} clsact`);
        check(tc_filter_add(dev, spec.direction, prog, { ...(spec.prio !== undefined ? { prio: spec.prio } : {}), name: `${spec.object.split('/').pop()}:[${prog.section}]`, ...engine }),
          `tc filter add dev ${dev.name} ${spec.direction} bpf da obj ${spec.object}`);
        return;
      case 'sk_lookup':
        check(netns_bpf_link_create(this.net, new SkLookupProgramRunner(prog, { netHost: net_bpf_host(this.net), ...engine })), `sk_lookup link for ${spec.object}`);
        return;
      case 'socket_filter':
        if (app === undefined) throw new Error('bpf attach: a socket filter needs the application\'s socket');
        check(sk_attach_bpf(app, prog, engine), `SO_ATTACH_BPF ${spec.object}`);
        return;
    }
  }

  report(): BpfAttachReport {
    const maps: BpfAttachReport['maps'] = {};
    for (const [n, m] of this.maps) {
      maps[n] = { type: mapTypeName(m.spec.type), entries: dumpMap(m).map((e) => ({ key: toHex(e.key), value: toHex(e.value) })) };
    }
    const d = this.dispatcher;
    return {
      net: bpf_net_show_text(this.net), maps,
      ...(d !== undefined ? {
        dispatcher: {
          metrics: d.metrics(),
          bindings: d.bindings().map(bindingText),
          destinations: d.destinations().map((x) => ({
            label: x.label, family: x.family, protocol: x.protocol, id: x.id, cookie: x.cookie === undefined ? null : x.cookie.toString(), ...x.metrics,
          })),
        },
      } : {}),
    };
  }
}
